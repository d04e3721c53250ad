using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using EdgeNode.Gateway.Api;
using EdgeNode.Gateway.Modes;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Discovery;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Security;

namespace EdgeNode.Agent.Serve;

/// <summary>
/// The LAN pool as a serving mode of `edgenode serve`: a model this node cannot hold is served by the pool's chain for
/// it. The mode watches the pool as an observer (the retained plans, as `edgenode pool status` does; it publishes
/// nothing), renders each request with the model's own tokenizer and chat format here, and sends the prompt's ids to
/// the chain's entry node, so a chat format's special tokens reach the model as ids, not as text.
/// </summary>
internal sealed class PoolServingMode : IServingMode, IAsyncDisposable
{
    /// <summary>How long to wait between attempts to reach the pool's broker (it may start after this node, or restart).</summary>
    public static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    private readonly string _pool;
    private readonly string? _broker;
    private readonly string? _userName;
    private readonly string? _password;
    private readonly PoolHandshake? _handshake;
    private readonly Func<string, PromptModel> _promptModel;
    private readonly string? _fallbackTemplate;
    private readonly HiddenEncoding _encoding;
    private readonly ConcurrentDictionary<string, Lazy<PromptModel>> _promptModels = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watch;
    private volatile PoolMembership? _membership;
    private volatile string _notConnected;

    /// <param name="pool">The pool's name.</param>
    /// <param name="broker">mqtt://… of the pool's broker, or null to find it by mDNS.</param>
    /// <param name="promptModel">The tokenizer and manifest of a served model, from its source path, without its weights.</param>
    /// <param name="fallbackTemplate">The node's --chat-template, for models that record none.</param>
    /// <param name="encoding">How hidden states travel between the chain's nodes.</param>
    /// <param name="userName">The broker login when the pool has a secret (user: the pool's name); null: the URL's, or none.</param>
    /// <param name="handshake">The pool's secret as the data plane's handshake, when the pool has one.</param>
    public PoolServingMode(string pool, string? broker, Func<string, PromptModel> promptModel, string? fallbackTemplate, HiddenEncoding encoding = HiddenEncoding.Fp16,
        string? userName = null, string? password = null, PoolHandshake? handshake = null)
    {
        _handshake = handshake;
        _pool = pool;
        _broker = broker;
        _userName = userName;
        _password = password;
        _promptModel = promptModel;
        _fallbackTemplate = fallbackTemplate;
        _encoding = encoding;
        _notConnected = $"the pool '{pool}' is not reached yet ({(broker is null ? "its broker is looked for by mDNS" : $"broker {broker}")})";
        _watch = Task.Run(() => WatchAsync(_stop.Token));
    }

    public string Name => ServingModeNames.Pool;

    public ModeAvailability Check(ModeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = request.Model.Id;
        if (_membership is not { } membership)
            return ModeAvailability.No(_notConnected);
        var view = membership.View;
        if (view.Plans.GetValueOrDefault(id) is { Plan.Assignments.Count: > 0 } plan)
            return ModeAvailability.Yes($"pool '{_pool}' serves {id} over {plan.Plan.Hops} nodes (epoch {plan.Plan.Epoch})");
        var served = view.Plans.Where(p => p.Value.Plan.Assignments.Count > 0).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        var why = view.Plans.GetValueOrDefault(id)?.Unplanned is { } unplanned ? $": {unplanned}" : "";
        return ModeAvailability.No($"pool '{_pool}' has no chain for {id}{why} (it serves {(served.Count == 0 ? "no model" : string.Join(", ", served))}; see `edgenode pool status --pool {_pool}`)");
    }

    public async Task<ModeGeneration> GenerateAsync(ModeRequest request, string endpoint, JsonElement body, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = request.Model.Id;
        var plan = _membership?.View.Plans.GetValueOrDefault(id) is { Plan.Assignments.Count: > 0 } message
            ? message.Plan
            : throw ApiError.ModeFailed(id, ServingModeNames.Pool, Check(request).Reason);
        var model = _promptModels.GetOrAdd(id, _ => new Lazy<PromptModel>(() => _promptModel(request.Model.Served.Source))).Value;
        var rendered = RenderedRequest.Render(endpoint, body, model, id, model.Manifest.ToLlamaConfig().MaxSeqLen, _fallbackTemplate);
        var options = rendered.Generation;
        var poolRequest = new PoolRequest
        {
            PromptTokens = rendered.PromptTokens,
            StopTokens = [.. options.StopTokens],
            MaxTokens = options.MaxTokens,
            Sampling = options.Sampling,
            StopTexts = options.StopTexts,
            Encoding = _encoding,
            ContextLength = options.ContextLength,
        };
        // The client hands pieces over on its receive loop, which must not wait for the HTTP response: they queue here
        // and are written in order by this request's own task.
        var pieces = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = onPiece is null ? Task.CompletedTask : WritePiecesAsync(pieces.Reader, onPiece);
        PoolGenerationResult result;
        try
        {
            await using var client = await PoolClient.ConnectAsync(plan.Assignments[0].DataEndpoint, null, cancellation, _handshake).ConfigureAwait(false);
            result = await client.GenerateAsync(poolRequest, piece =>
            {
                if (piece.Text.Length > 0)
                    pieces.Writer.TryWrite(piece.Text);
            }, cancellation).ConfigureAwait(false);
        }
        catch (PoolChainException e)
        {
            throw e.Code == ChainErrorCode.BadRequest
                ? ApiError.InvalidRequest($"The pool's chain for '{id}' refused the request: {e.Message}", null, "invalid_value")
                : ApiError.ModeFailed(id, ServingModeNames.Pool, e.Message);
        }
        catch (IOException e)
        {
            throw ApiError.ModeFailed(id, ServingModeNames.Pool, $"the chain's entry node {plan.Assignments[0].NodeId} at {plan.Assignments[0].DataEndpoint} cannot be reached: {e.Message}");
        }
        finally
        {
            pieces.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
        // This node ran none of the model's layers itself: its receipt says so (the chain's nodes hold them).
        return new ModeGeneration(result.Text, result.PromptTokens.Length, result.Tokens.Length, RenderedRequest.FinishReason(result.StopReason), 0, model.Manifest.Precision);
    }

    /// <summary>The pool as `edgenode pool status --json` reports it, for the dashboard; null until the pool is reached.</summary>
    public JsonElement? Status()
    {
        if (_membership is not { } membership)
            return null;
        using var report = JsonDocument.Parse(PoolStatusReport.From(membership.View, membership.Broker).ToJson());
        return report.RootElement.Clone();
    }

    private static async Task WritePiecesAsync(ChannelReader<string> pieces, Func<string, ValueTask> onPiece)
    {
        await foreach (var piece in pieces.ReadAllAsync().ConfigureAwait(false))
            await onPiece(piece).ConfigureAwait(false);
    }

    /// <summary>Connects as an observer, and again after a failure, until disposed.</summary>
    private async Task WatchAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var broker = await BrokerLocator.ResolveAsync(_pool, _broker, cancellationToken: stop).ConfigureAwait(false);
                var membership = new PoolMembership(new MembershipOptions { Pool = _pool, Broker = broker, UserName = _userName, Password = _password }, ownNodeId: null);
                try
                {
                    await membership.StartAsync(null, stop).ConfigureAwait(false);
                }
                catch
                {
                    await membership.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
                // Once connected the membership reconnects and resubscribes by itself.
                _membership = membership;
                return;
            }
            catch (Exception e) when (e is IOException or TimeoutException or ArgumentException && !stop.IsCancellationRequested)
            {
                _notConnected = $"the pool '{_pool}' cannot be reached: {e.Message}";
            }
            try
            {
                await Task.Delay(ReconnectDelay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _watch.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        if (_membership is { } membership)
            await membership.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
