namespace EdgeNode.Gateway;

/// <summary>
/// The intra-op thread count the node's local models run with, as the device governor sets it (fewer when the board
/// runs hot or over its power budget). Each model follows at a moment when no generation runs on it: its sessions are
/// re-opened with the new count between two requests (<see cref="ModelRunner"/>). Null until the governor first says
/// a count: the models run with what they were loaded with (--threads).
/// </summary>
public sealed class SessionThreads
{
    private readonly Lock _gate = new();
    private int? _threads;

    /// <summary>The count models should run with (0: one per physical core); null: as loaded.</summary>
    public int? Threads
    {
        get { lock (_gate) return _threads; }
    }

    /// <summary>Raised with the new count and why, on the thread that changed it.</summary>
    public event Action<int, string>? Changed;

    /// <summary>Sets the count; the models follow as soon as each is free. The same count again changes nothing.</summary>
    public void Change(int threads, string why)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        lock (_gate)
        {
            if (_threads == threads)
                return;
            _threads = threads;
        }
        Changed?.Invoke(threads, why);
    }
}
