namespace EdgeNode.Pool.Chain;

/// <summary>
/// The node's work queue: frames are bounded (<see cref="DataPlane.DataPlaneLimits.WorkQueueFrames"/>; a reader waits
/// for room, which stops it reading its socket, which slows its sender), while control items (a closed connection, a
/// plan, a deadline check) always get in. One consumer, a dedicated thread, blocks on it; nothing is allocated per item.
/// <para>
/// The ring cannot deadlock on this bound: a session has at most one frame in flight, and a node holds at most
/// <see cref="ChainNodeOptions.MaxSessions"/> sessions, far fewer than the queue's room.
/// </para>
/// </summary>
internal sealed class ChainWorkQueue(int frameCapacity) : IDisposable
{
    private readonly Queue<ChainWork> _items = new();
    private readonly SemaphoreSlim _available = new(0);
    private readonly SemaphoreSlim _room = new(frameCapacity, frameCapacity);
    private readonly object _gate = new();

    public async ValueTask EnqueueFrameAsync(ChainWork work)
    {
        await _room.WaitAsync().ConfigureAwait(false);
        Add(work);
    }

    public void Post(ChainWork work) => Add(work);

    /// <summary>Blocks until there is an item.</summary>
    public ChainWork Take()
    {
        _available.Wait();
        ChainWork work;
        lock (_gate) work = _items.Dequeue();
        if (work.Kind == ChainWorkKind.Frame)
            _room.Release();
        return work;
    }

    private void Add(ChainWork work)
    {
        lock (_gate) _items.Enqueue(work);
        _available.Release();
    }

    public void Dispose()
    {
        _available.Dispose();
        _room.Dispose();
    }
}
