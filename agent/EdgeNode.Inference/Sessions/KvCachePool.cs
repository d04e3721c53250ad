namespace EdgeNode.Inference.Sessions;

/// <summary>
/// The KV caches of every conversation a process serves, under one memory budget. A pool node serves
/// many users at once: each conversation keeps its cache between requests (sticky routing), and when
/// a new cache would exceed the budget the least recently used idle caches are evicted. A conversation
/// whose cache was evicted finds out from <see cref="TryGet"/> and rebuilds it by replaying its tokens.
/// </summary>
public sealed class KvCachePool : IDisposable
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Func<KvCache> _create;
    private readonly object _gate = new();
    private long _tick;

    /// <param name="budgetBytes">Upper bound of native memory for all caches together.</param>
    /// <param name="create">Makes a fresh cache for a conversation (its size is fixed per pool).</param>
    public KvCachePool(long budgetBytes, Func<KvCache> create)
    {
        if (budgetBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(budgetBytes), budgetBytes, "the KV cache budget must be positive");
        BudgetBytes = budgetBytes;
        _create = create;
    }

    public long BudgetBytes { get; }

    public long UsedBytes { get; private set; }

    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>Conversations evicted so far (for the node's metrics).</summary>
    public long Evictions { get; private set; }

    /// <summary>The cache of <paramref name="conversationId"/>, created (evicting idle ones if needed) when absent.</summary>
    public KvCacheLease Acquire(string conversationId)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(conversationId, out var existing))
            {
                if (existing.InUse)
                    throw new InvalidOperationException($"conversation '{conversationId}' is already running");
                existing.InUse = true;
                existing.LastUse = ++_tick;
                return new KvCacheLease(this, conversationId, existing.Cache, created: false);
            }
            var cache = _create();
            while (UsedBytes + cache.Bytes > BudgetBytes)
            {
                if (!EvictLeastRecentlyUsed())
                {
                    cache.Dispose();
                    throw new InsufficientMemoryException(
                        $"KV cache budget {BudgetBytes / (1024 * 1024)} MiB is full with {_entries.Count} running conversations; raise --kv-budget or lower --context");
                }
            }
            var entry = new Entry(cache) { InUse = true, LastUse = ++_tick };
            _entries.Add(conversationId, entry);
            UsedBytes += cache.Bytes;
            return new KvCacheLease(this, conversationId, cache, created: true);
        }
    }

    /// <summary>Whether the conversation still has its cache (false after eviction or removal).</summary>
    public bool Contains(string conversationId)
    {
        lock (_gate) return _entries.ContainsKey(conversationId);
    }

    public bool TryGet(string conversationId, out int length)
    {
        lock (_gate)
        {
            length = _entries.TryGetValue(conversationId, out var e) ? e.Cache.Length : 0;
            return e is not null;
        }
    }

    /// <summary>Drops a finished conversation's cache.</summary>
    public void Remove(string conversationId)
    {
        lock (_gate)
        {
            if (_entries.Remove(conversationId, out var entry))
            {
                UsedBytes -= entry.Cache.Bytes;
                entry.Cache.Dispose();
            }
        }
    }

    internal void Release(string conversationId)
    {
        lock (_gate)
        {
            if (_entries.TryGetValue(conversationId, out var entry))
                entry.InUse = false;
        }
    }

    private bool EvictLeastRecentlyUsed()
    {
        string? victim = null;
        long oldest = long.MaxValue;
        foreach (var (id, entry) in _entries)
        {
            if (!entry.InUse && entry.LastUse < oldest)
            {
                oldest = entry.LastUse;
                victim = id;
            }
        }
        if (victim is null)
            return false;
        var evicted = _entries[victim];
        _entries.Remove(victim);
        UsedBytes -= evicted.Cache.Bytes;
        evicted.Cache.Dispose();
        Evictions++;
        return true;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var entry in _entries.Values)
                entry.Cache.Dispose();
            _entries.Clear();
            UsedBytes = 0;
        }
    }

    private sealed class Entry(KvCache cache)
    {
        public KvCache Cache { get; } = cache;
        public bool InUse { get; set; }
        public long LastUse { get; set; }
    }
}

/// <summary>A conversation's cache, held for the duration of one request; dispose to hand it back.</summary>
public sealed class KvCacheLease : IDisposable
{
    private readonly KvCachePool _pool;
    private bool _released;

    internal KvCacheLease(KvCachePool pool, string conversationId, KvCache cache, bool created)
    {
        _pool = pool;
        ConversationId = conversationId;
        Cache = cache;
        Created = created;
    }

    public string ConversationId { get; }
    public KvCache Cache { get; }

    /// <summary>True when the cache is new: the conversation's earlier tokens (if any) must be replayed.</summary>
    public bool Created { get; }

    public void Dispose()
    {
        if (_released)
            return;
        _released = true;
        _pool.Release(ConversationId);
    }
}
