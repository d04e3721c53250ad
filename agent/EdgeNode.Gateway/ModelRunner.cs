using System.Diagnostics;
using EdgeNode.Gateway.Api;
using EdgeNode.Inference.Sessions;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Gateway;

/// <summary>
/// One served model and the queue in front of it. Runs on one model are serialized, first come first served:
/// a model's slice sessions each hold one I/O binding and its native buffers, so two forward passes at once
/// would overwrite each other's inputs, and one run already keeps every core busy through ONNX Runtime's
/// intra-op threads, so interleaving runs would not raise throughput on the boards this serves. Waiting
/// requests are bounded; past the bound a request is refused with 429 rather than queued without end.
/// </summary>
public sealed class ModelRunner : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly int _maxQueued;
    private readonly ILogger _log;
    private LocalModel? _model;
    private int _waitingOrRunning;

    public ModelRunner(ServedModel served, int maxQueued, ILogger log)
    {
        Served = served;
        _maxQueued = maxQueued;
        _log = log;
    }

    public ServedModel Served { get; }

    public string Id => Served.Id;

    /// <summary>Requests holding or waiting for this model's turn.</summary>
    public int Pending => Volatile.Read(ref _waitingOrRunning);

    /// <summary>Waits for this model's turn (loading the model on first use); dispose the turn to hand it on.</summary>
    public async Task<ModelTurn> WaitTurnAsync(CancellationToken cancellation)
    {
        if (Interlocked.Increment(ref _waitingOrRunning) > _maxQueued + 1)
        {
            Interlocked.Decrement(ref _waitingOrRunning);
            throw ApiError.Overloaded(Id, _maxQueued);
        }
        try
        {
            await _turn.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _waitingOrRunning);
            throw;
        }
        try
        {
            return new ModelTurn(this, _model ??= Load());
        }
        catch
        {
            Release();
            throw;
        }
    }

    private LocalModel Load()
    {
        _log.LogInformation("loading model {Model} from {Source}", Id, Served.Source);
        var clock = Stopwatch.StartNew();
        try
        {
            var model = Served.Load();
            _log.LogInformation("model {Model} ready in {Seconds:F1} s: {Layers} layers, context {Context}, {Precision}",
                Id, clock.Elapsed.TotalSeconds, model.Config.Layers, model.Config.MaxSeqLen, model.Manifest.Precision);
            return model;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _log.LogError("model {Model} failed to load from {Source}: {Error}", Id, Served.Source, e.Message);
            throw ApiError.ModelUnavailable(Id, e.Message);
        }
    }

    internal void Release()
    {
        Interlocked.Decrement(ref _waitingOrRunning);
        _turn.Release();
    }

    public void Dispose()
    {
        _model?.Dispose();
        _turn.Dispose();
    }
}

/// <summary>A request's exclusive use of a loaded model; disposing it lets the next request run.</summary>
public sealed class ModelTurn : IDisposable
{
    private ModelRunner? _runner;

    internal ModelTurn(ModelRunner runner, LocalModel model)
    {
        _runner = runner;
        Model = model;
    }

    public LocalModel Model { get; }

    public void Dispose() => Interlocked.Exchange(ref _runner, null)?.Release();
}
