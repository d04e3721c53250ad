using System.Threading.Channels;
using EdgeNode.Agent.Serve;
using EdgeNode.Governor;
using EdgeNode.Pool.Membership;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// The device governor's say in the pool: its drain takes this node out of the plans (state `draining`: the leader
/// re-plans without it, the node stays visible with its sensors and the reason), its resume puts it back; its thread
/// steps re-open the node's slices with the new intra-op thread count (ONNX Runtime fixes a session's threads when it
/// creates it), between two work items of the data plane and with every open session's KV cache kept, and the count
/// goes into the node's state; and every sample's temperature, power and joules per token go into the node's state
/// where a sensor exists (docs/pool-operators.md, "The governor").
/// </summary>
internal sealed partial class PoolGovernance : IObserver<GovernorDecision>, IAsyncDisposable
{
    private readonly GovernedJobs _governed;
    private readonly IPoolGovernable _node;
    private readonly ILogger _log;
    private readonly Channel<GovernorDecision> _decisions = Channel.CreateUnbounded<GovernorDecision>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private IDisposable? _subscription;
    private Task _loop = Task.CompletedTask;
    private NodeSensors? _published;
    private long _lastFrames = -1;
    private long _lastAt;
    private double? _joulesPerToken;

    public PoolGovernance(GovernedJobs governed, IPoolGovernable node, ILogger log)
    {
        _governed = governed;
        _node = node;
        _log = log;
    }

    public void Start()
    {
        _subscription = _governed.Governor?.Subscribe(this);
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    public void OnNext(GovernorDecision value) => _decisions.Writer.TryWrite(value);

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var decision = _decisions.Reader.WaitToReadAsync(cancellationToken).AsTask();
                await Task.WhenAny(decision, Task.Delay(GovernedJobs.SampleInterval, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                while (_decisions.Reader.TryRead(out var d))
                    await ApplyAsync(d, cancellationToken).ConfigureAwait(false);
                await PublishSensorsAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task ApplyAsync(GovernorDecision decision, CancellationToken cancellationToken)
    {
        try
        {
            switch (decision.Kind)
            {
                case GovernorDecisionKind.Drain:
                    Log.Draining(_log, decision.Why);
                    await _node.DrainAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case GovernorDecisionKind.Resume:
                    Log.Resuming(_log, decision.Why);
                    await _node.ResumeAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The broker is away: the state is republished on reconnect, and the next decision tries again.
            Log.Failed(_log, decision.Kind.ToString(), e.Message);
        }
        // Every decision carries the count to run with (a resume may come back at fewer threads than before the drain).
        var threads = _governed.ThreadsFor(decision);
        try
        {
            await _node.SetThreadsAsync(threads, decision.Why, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The data plane logged what failed; the next decision tries again.
            Log.ThreadsNotApplied(_log, threads, e.Message);
        }
    }

    /// <summary>Publishes the readings when they changed (to a tenth of a degree, a hundredth of a watt).</summary>
    private async Task PublishSensorsAsync(CancellationToken cancellationToken)
    {
        var readings = _governed.Sampler?.LastReadings;
        if (readings is null)
            return;
        var watts = readings.PowerWatts;
        // Joules per token: the power drawn over the interval, shared by the decode steps the node ran in it.
        var frames = _node.FramesProcessed;
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_lastFrames >= 0 && watts is { } w && frames > _lastFrames)
            _joulesPerToken = w * System.Diagnostics.Stopwatch.GetElapsedTime(_lastAt, now).TotalSeconds / (frames - _lastFrames);
        _lastFrames = frames;
        _lastAt = now;
        NodeSensors? sensors = readings.TemperatureCelsius is null && watts is null ? null : new NodeSensors
        {
            TemperatureC = readings.TemperatureCelsius is { } t ? Math.Round(t, 1) : null,
            PowerW = watts is { } p ? Math.Round(p, 2) : null,
            JoulesPerToken = _joulesPerToken is { } j ? Math.Round(j, 4) : null,
        };
        if (sensors == _published)
            return;
        try
        {
            await _node.UpdateAsync(s => s with { Sensors = sensors }, cancellationToken).ConfigureAwait(false);
            _published = sensors;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.Failed(_log, "sensors", e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _subscription?.Dispose();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Warning, "governor: leaving the pool's plans: {Why}")]
        public static partial void Draining(ILogger logger, string why);

        [LoggerMessage(21, LogLevel.Information, "governor: back in the pool's plans: {Why}")]
        public static partial void Resuming(ILogger logger, string why);

        [LoggerMessage(22, LogLevel.Warning, "governor: could not run the node with {Threads} threads: {Reason}")]
        public static partial void ThreadsNotApplied(ILogger logger, int threads, string reason);

        [LoggerMessage(23, LogLevel.Warning, "governor: could not publish {What} to the pool: {Reason}")]
        public static partial void Failed(ILogger logger, string what, string reason);
    }
}
