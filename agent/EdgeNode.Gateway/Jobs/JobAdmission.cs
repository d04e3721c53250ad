namespace EdgeNode.Gateway.Jobs;

/// <summary>
/// Whether jobs may start now. The device's governor closes it while the node drains (too hot, battery low, over its
/// power budget) and opens it when the node may serve again; a running job finishes, no new one starts. Interactive
/// requests are not held here: a person waiting is served while the node can, jobs only with what is spare.
/// </summary>
public sealed class JobAdmission
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _open = NewOpen(completed: true);
    private string? _pausedBecause;

    /// <summary>Why jobs are paused, or null when they may start.</summary>
    public string? PausedBecause
    {
        get { lock (_gate) return _pausedBecause; }
    }

    public void Pause(string reason)
    {
        lock (_gate)
        {
            if (_pausedBecause is null)
                _open = NewOpen(completed: false);
            _pausedBecause = reason;
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            _pausedBecause = null;
            _open.TrySetResult();
        }
    }

    /// <summary>Completes when jobs may start (at once if they may now).</summary>
    public Task WaitOpenAsync(CancellationToken cancellation)
    {
        Task open;
        lock (_gate)
            open = _open.Task;
        return open.WaitAsync(cancellation);
    }

    private static TaskCompletionSource NewOpen(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
            source.SetResult();
        return source;
    }
}
