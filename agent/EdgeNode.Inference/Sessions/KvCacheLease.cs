namespace EdgeNode.Inference.Sessions;

/// <summary>
/// A conversation's cache, held for the duration of one request; dispose to hand it back. The lease is
/// the proof of ownership: once it has ended, <see cref="Cache"/> and <see cref="Discard"/> throw, and
/// disposing it again does nothing, so a stale lease cannot reach or release the cache of a later
/// request of the same conversation (which may be the same cache object, or a recreated one).
/// </summary>
public sealed class KvCacheLease : IDisposable
{
    private readonly KvCachePool _pool;
    private readonly KvCache _cache;
    private int _ended;

    internal KvCacheLease(KvCachePool pool, string conversationId, KvCache cache, bool created)
    {
        _pool = pool;
        ConversationId = conversationId;
        _cache = cache;
        Created = created;
    }

    public string ConversationId { get; }

    /// <exception cref="ObjectDisposedException">The lease has ended.</exception>
    public KvCache Cache => Volatile.Read(ref _ended) == 0 ? _cache : throw Ended(ConversationId);

    /// <summary>True when the cache is new: the conversation's earlier tokens (if any) must be replayed.</summary>
    public bool Created { get; }

    /// <summary>
    /// Ends the request and drops the cache instead of keeping it: a run that failed half-way leaves
    /// positions that must not be trusted, and the next request replays the conversation into a fresh cache.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The lease has already ended.</exception>
    public void Discard() => _pool.Discard(this);

    public void Dispose() => _pool.Release(this);

    /// <summary>Marks the lease ended; true only for the call that ended it.</summary>
    internal bool End() => Interlocked.Exchange(ref _ended, 1) == 0;

    internal static ObjectDisposedException Ended(string conversationId) => new(
        nameof(KvCacheLease), $"the lease on conversation '{conversationId}' has ended; acquire the conversation again");
}
