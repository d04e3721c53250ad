using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using EdgeNode.Gateway.Api;
using EdgeNode.Gateway.Modes;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;

namespace EdgeNode.Verifier;

/// <summary>
/// Speculative decoding as a serving mode of `edgenode serve`: a model too big for this node is served by drafting
/// with a small local model of the same tokenizer and having a remote verifier (another `edgenode serve` holding the
/// target) check each round's drafts. Greedy output is the target's own; sampling keeps the target's distribution.
/// The draft model is one: requests take turns on it (a draft round is short; the round trip dominates).
/// </summary>
public sealed class SpeculativeServingMode : IServingMode, IDisposable
{
    /// <summary>How long a reachability answer is trusted: the picker asks per request, the verifier should not pay for it.</summary>
    public static readonly TimeSpan CheckCacheTime = TimeSpan.FromSeconds(3);

    /// <summary>A check must not hold a request up for long: a verifier that takes longer than this is as good as down.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    private readonly string _verifierUrl;
    private readonly Uri _modelsUri;
    private readonly string? _apiKey;
    private readonly LocalModel _draft;
    private readonly string _draftName;
    private readonly string? _fallbackTemplate;
    private readonly HttpClient _probe;
    private readonly SemaphoreSlim _draftTurn = new(1, 1);
    private readonly Lock _gate = new();
    private (long At, string[]? Models, string? Failure)? _lastCheck;

    /// <param name="verifierUrl">The verifier's base URL, e.g. http://10.0.0.2:8080.</param>
    /// <param name="apiKey">One of the verifier's API keys, or null when it needs none.</param>
    /// <param name="draft">The draft model (owned: disposed with the mode); its tokenizer must be the target's.</param>
    /// <param name="draftName">How reasons and reports name the draft, e.g. "model:llama2xs".</param>
    /// <param name="fallbackTemplate">The node's --chat-template, for models that record none.</param>
    public SpeculativeServingMode(string verifierUrl, string? apiKey, LocalModel draft, string draftName, string? fallbackTemplate)
    {
        ArgumentNullException.ThrowIfNull(verifierUrl);
        if (!Uri.TryCreate(verifierUrl.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"--verifier-url '{verifierUrl}' is not an http(s) URL such as http://host:8080");
        _verifierUrl = verifierUrl.TrimEnd('/');
        _modelsUri = new Uri(uri, "v1/models");
        _apiKey = apiKey;
        _draft = draft;
        _draftName = draftName;
        _fallbackTemplate = fallbackTemplate;
        _probe = new HttpClient(new SocketsHttpHandler { ConnectTimeout = CheckTimeout, UseProxy = false }) { Timeout = CheckTimeout };
        if (apiKey is not null)
            _probe.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public string Name => ServingModeNames.Speculative;

    public ModeAvailability Check(ModeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (models, failure) = VerifierModels();
        if (failure is not null)
            return ModeAvailability.No(failure);
        var id = request.Model.Id;
        return models!.Contains(id, StringComparer.Ordinal)
            ? ModeAvailability.Yes($"the verifier at {_verifierUrl} serves {id}; drafting with {_draftName}")
            : ModeAvailability.No($"the verifier at {_verifierUrl} does not serve '{id}' (it serves {(models!.Length == 0 ? "nothing" : string.Join(", ", models))}); start it with --model for {id}");
    }

    public async Task<ModeGeneration> GenerateAsync(ModeRequest request, string endpoint, JsonElement body, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _draftTurn.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            // The generator is synchronous (a round is a draft then one blocking HTTP exchange), so it gets a thread of
            // its own; pieces are handed to the async writer from there and waited for, which keeps the stream's backpressure.
            return await Task.Factory.StartNew(() => Generate(request.Model.Id, endpoint, body, onPiece, cancellation),
                cancellation, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            _draftTurn.Release();
        }
    }

    private ModeGeneration Generate(string modelId, string endpoint, JsonElement body, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        var rendered = RenderedRequest.Render(endpoint, body, _draft, modelId, _draft.Config.MaxSeqLen, _fallbackTemplate);
        var options = rendered.Generation;
        // The verifier draws with the seed, so one is always sent; a request without one gets a fresh one.
        var sampling = options.Sampling with { Seed = options.Sampling.Seed ?? (ulong)Stopwatch.GetTimestamp() };
        options = options with { Sampling = sampling };
        using var drafter = new ModelDrafter(_draft, sampling, _draft.Config.MaxSeqLen, _draftName);
        using var verifier = new RemoteVerifierSession(_verifierUrl, modelId, TokenizerFingerprint.Of(_draft.Tokenizer), sampling, _apiKey);
        var lengths = new DraftLengthController(VerifierOptions.DefaultMaxDraftTokens, null);
        SpeculativeResult result;
        try
        {
            result = new SpeculativeGenerator(_draft.Tokenizer).Generate(rendered.PromptTokens, options, drafter, verifier, lengths,
                onPiece is null ? null : piece => onPiece(piece).AsTask().GetAwaiter().GetResult(), cancellation);
        }
        catch (VerifierRequestException e)
        {
            throw new ApiError(e.Status is >= 400 and < 600 ? e.Status : 502, $"The verifier at {_verifierUrl} refused the request for '{modelId}': {e.Message}",
                e.Status < 500 ? "invalid_request_error" : "server_error", null, "verifier_refused");
        }
        catch (VerifierSessionLostException e)
        {
            Forget();
            throw ApiError.ModeFailed(modelId, ServingModeNames.Speculative,
                $"{e.Message}; gave up after {SpeculativeGenerator.MaxReopensInARow} attempts. Check that `edgenode serve` runs at {_verifierUrl} (--verifier-url).");
        }
        var generation = result.Generation;
        return new ModeGeneration(generation.Text, generation.PromptTokens.Length, generation.Tokens.Length,
            RenderedRequest.FinishReason(generation.StopReason), _draft.Config.Layers, _draft.Manifest.Precision);
    }

    /// <summary>The verifier's served models, or why they could not be had; asked at most once per <see cref="CheckCacheTime"/>.</summary>
    private (string[]? Models, string? Failure) VerifierModels()
    {
        lock (_gate)
        {
            if (_lastCheck is { } last && Stopwatch.GetElapsedTime(last.At) < CheckCacheTime)
                return (last.Models, last.Failure);
            var (models, failure) = AskVerifier();
            _lastCheck = (Stopwatch.GetTimestamp(), models, failure);
            return (models, failure);
        }
    }

    private void Forget()
    {
        lock (_gate)
            _lastCheck = null;
    }

    private (string[]? Models, string? Failure) AskVerifier()
    {
        try
        {
            using var response = _probe.Send(new HttpRequestMessage(HttpMethod.Get, _modelsUri));
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                return (null, $"the verifier at {_verifierUrl} refuses this node's key ({(int)response.StatusCode}); set verifier_key or EDGENODE_VERIFIER_KEY to one of its API keys");
            if (!response.IsSuccessStatusCode)
                return (null, $"the verifier at {_verifierUrl} answered GET /v1/models with {(int)response.StatusCode}; check that it is an `edgenode serve`");
            using var stream = response.Content.ReadAsStream();
            using var document = JsonDocument.Parse(stream);
            if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                return (null, $"the verifier at {_verifierUrl} answered GET /v1/models without a model list; check that it is an `edgenode serve`");
            var ids = new List<string>();
            foreach (var model in data.EnumerateArray())
            {
                if (model.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
                    ids.Add(id.GetString()!);
            }
            return ([.. ids], null);
        }
        catch (HttpRequestException e)
        {
            return (null, $"the verifier at {_verifierUrl} cannot be reached ({e.Message}); start `edgenode serve` there or fix --verifier-url");
        }
        catch (TaskCanceledException)
        {
            return (null, $"the verifier at {_verifierUrl} did not answer within {CheckTimeout.TotalSeconds:0} s; check that it runs and the network between");
        }
        catch (JsonException)
        {
            return (null, $"the verifier at {_verifierUrl} answered GET /v1/models with something other than JSON; check that it is an `edgenode serve`");
        }
    }

    public void Dispose()
    {
        _probe.Dispose();
        _draftTurn.Dispose();
        _draft.Dispose();
    }
}
