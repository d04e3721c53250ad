using System.Diagnostics;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// Thread steps: the device governor changes how many intra-op threads the node runs with. ONNX Runtime fixes that
/// count when it creates a session, so the worker re-opens the node's slices between two work items: no run is cut
/// short, frames that arrive meanwhile wait in the queue, and every open session keeps its KV caches (the new slices
/// bind them on the next run).
/// </summary>
public sealed partial class ChainNode
{
    // The count the node runs with, and the one it opens its next slices with; written by the worker.
    private int _threads;

    /// <summary>The intra-op threads the node's slices run with (0: one per physical core).</summary>
    public int Threads => Volatile.Read(ref _threads);

    /// <summary>False when a thread change could open the slices at neither count: the node cannot run its layers until the next plan.</summary>
    public bool SlicesLoaded => Volatile.Read(ref _slices)?.IsLoaded ?? true;

    /// <summary>
    /// Runs this node's slices with <paramref name="threads"/> intra-op threads from the next work item on: the worker
    /// closes the slices and opens them again from the same files with that count, then goes on with the queue. Before
    /// the first plan it only sets the count the slices will be opened with.
    /// </summary>
    /// <param name="reason">Why (the governor's sentence), for the log.</param>
    /// <exception cref="Inference.Sessions.SliceReopenException">
    /// The slices could not be opened with <paramref name="threads"/>; <see cref="SlicesLoaded"/> says whether they run
    /// with the old count again (otherwise every session on the node ended with the reason).
    /// </exception>
    public Task<ThreadsChange> ChangeThreadsAsync(int threads, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        ArgumentNullException.ThrowIfNull(reason);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_worker is null)
            throw new InvalidOperationException("start the chain node (Start) before changing its threads: the worker re-opens the slices");
        var request = new ThreadsRequest(threads, reason);
        _queue.Post(new ChainWork { Kind = ChainWorkKind.Threads, State = request });
        return request.Done.Task;
    }

    private sealed class ThreadsRequest(int threads, string reason)
    {
        public int Threads { get; } = threads;
        public string Reason { get; } = reason;
        public TaskCompletionSource<ThreadsChange> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private void OnThreads(ThreadsRequest request)
    {
        var from = _slices?.Threads ?? _threads;
        if (_slices is null || _slices.Threads == request.Threads && _slices.IsLoaded)
        {
            Volatile.Write(ref _threads, request.Threads);
            request.Done.TrySetResult(new ThreadsChange(from, request.Threads, TimeSpan.Zero, _sessions.Count, Reopened: false));
            return;
        }
        try
        {
            request.Done.TrySetResult(Reopen(request.Threads, request.Reason));
        }
        catch (Exception e)
        {
            request.Done.TrySetException(e);
        }
    }

    /// <summary>
    /// Re-opens the current slices with <paramref name="threads"/> threads (on the worker). A failure is logged; when the
    /// slices could not be opened at all, every session ends with the reason (nothing could run its next step).
    /// </summary>
    private ThreadsChange Reopen(int threads, string reason)
    {
        var slices = _slices!;
        var from = slices.Threads;
        var started = Stopwatch.GetTimestamp();
        try
        {
            slices.ChangeThreads(threads);
        }
        catch (Exception e)
        {
            Volatile.Write(ref _threads, slices.IsLoaded ? slices.Threads : threads);
            ChainLog.ThreadsNotChanged(_log, NodeId, from, threads, reason, e.Message);
            if (!slices.IsLoaded)
            {
                foreach (var session in _sessions.Values.ToList())
                    FailSession(session, new ChainErrorPayload(ChainErrorCode.RunFailed, NodeId, $"node {NodeId} lost its slices: {e.Message}"));
            }
            throw;
        }
        Volatile.Write(ref _threads, threads);
        var elapsed = Stopwatch.GetElapsedTime(started);
        ChainLog.ThreadsChanged(_log, NodeId, from, threads, Math.Round(elapsed.TotalMilliseconds, 1), _sessions.Count, reason);
        return new ThreadsChange(from, threads, elapsed, _sessions.Count, Reopened: true);
    }
}
