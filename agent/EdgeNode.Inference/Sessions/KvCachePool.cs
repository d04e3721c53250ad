using System.Globalization;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// The KV caches of every conversation a process serves, under one memory budget. A pool node serves
/// many users at once: each conversation keeps its cache between requests (sticky routing), and when
/// a new cache would exceed the budget the least recently used idle caches are evicted. A conversation
/// whose cache was evicted finds out from <see cref="TryGet"/> and rebuilds it by replaying its tokens.
/// </summary>
/// <remarks>
/// A cache belongs to one <see cref="KvCacheLease"/> at a time, and the lease object itself is the token
/// of that ownership: the pool releases, or lets a holder discard, a cache only through the lease that
/// holds it now. A lease that has ended (disposed, discarded, or its pool disposed) is stale: disposing
/// it again does nothing, and reaching its cache or discarding through it throws
/// <see cref="ObjectDisposedException"/>, so it can never touch the cache of a later request of the same
/// conversation. Every member is safe to call from many threads.
/// </remarks>
public sealed class KvCachePool : IDisposable
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Func<KvCache> _create;
    private readonly object _gate = new();
    private long _tick;
    private long _usedBytes;
    private long _evictions;
    private bool _disposed;

    // Caches are the same size within a pool: once one was made, room is made before the next is
    // allocated, so the native memory held never goes past the budget while a cache is created.
    private long _cacheBytes;

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

    public long UsedBytes
    {
        get { lock (_gate) return _usedBytes; }
    }

    public int Count
    {
        get { lock (_gate) return _entries.Count; }
    }

    /// <summary>Conversations evicted so far (for the node's metrics).</summary>
    public long Evictions
    {
        get { lock (_gate) return _evictions; }
    }

    /// <summary>The cache of <paramref name="conversationId"/>, created (evicting idle ones if needed) when absent.</summary>
    /// <exception cref="InvalidOperationException">The conversation already has a request running.</exception>
    /// <exception cref="InsufficientMemoryException">One cache is larger than the budget, or every cache is running.</exception>
    public KvCacheLease Acquire(string conversationId)
    {
        ArgumentNullException.ThrowIfNull(conversationId);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_entries.TryGetValue(conversationId, out var existing))
            {
                if (existing.Holder is not null)
                    throw new InvalidOperationException($"conversation '{conversationId}' is already running; wait for its request to end");
                existing.Holder = new KvCacheLease(this, conversationId, existing.Cache, created: false);
                existing.LastUse = ++_tick;
                return existing.Holder;
            }

            // Refused before anything is evicted: flushing the idle caches would not make room anyway.
            if (_cacheBytes > BudgetBytes)
                throw TooLarge(_cacheBytes);
            if (_cacheBytes > 0)
                MakeRoom(_cacheBytes);
            var cache = _create();
            _cacheBytes = cache.Bytes;
            try
            {
                if (cache.Bytes > BudgetBytes)
                    throw TooLarge(cache.Bytes);
                MakeRoom(cache.Bytes);
            }
            catch
            {
                cache.Dispose();
                throw;
            }
            var entry = new Entry(cache) { LastUse = ++_tick };
            entry.Holder = new KvCacheLease(this, conversationId, cache, created: true);
            _entries.Add(conversationId, entry);
            _usedBytes += cache.Bytes;
            return entry.Holder;
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

    /// <summary>Drops a finished conversation's cache; nothing happens when it has none.</summary>
    /// <exception cref="InvalidOperationException">The conversation has a request running.</exception>
    public void Remove(string conversationId)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(conversationId, out var entry))
                return;
            if (entry.Holder is not null)
                throw new InvalidOperationException($"conversation '{conversationId}' is running; remove its cache after its request ends (or discard it through its lease)");
            Drop(conversationId, entry);
        }
    }

    internal void Release(KvCacheLease lease)
    {
        lock (_gate)
        {
            if (!lease.End())
                return;
            if (_entries.TryGetValue(lease.ConversationId, out var entry) && ReferenceEquals(entry.Holder, lease))
            {
                entry.Holder = null;
                // Least recently used means last used: a long request that just ended is the freshest.
                entry.LastUse = ++_tick;
            }
        }
    }

    internal void Discard(KvCacheLease lease)
    {
        lock (_gate)
        {
            if (!lease.End())
                throw KvCacheLease.Ended(lease.ConversationId);
            if (_entries.TryGetValue(lease.ConversationId, out var entry) && ReferenceEquals(entry.Holder, lease))
                Drop(lease.ConversationId, entry);
        }
    }

    private void MakeRoom(long bytes)
    {
        while (_usedBytes + bytes > BudgetBytes)
        {
            if (!EvictLeastRecentlyUsed())
            {
                throw new InsufficientMemoryException(
                    $"KV cache budget {Size(BudgetBytes)} is full with {_entries.Count} running conversations; retry when one ends, or raise the KV cache budget or lower the context length (--context)");
            }
        }
    }

    private InsufficientMemoryException TooLarge(long bytes) => new(
        $"one conversation's KV cache ({Size(bytes)}) is larger than the whole KV cache budget ({Size(BudgetBytes)}); raise the KV cache budget or lower the context length (--context)");

    private bool EvictLeastRecentlyUsed()
    {
        string? victim = null;
        Entry? oldest = null;
        foreach (var (id, entry) in _entries)
        {
            if (entry.Holder is null && (oldest is null || entry.LastUse < oldest.LastUse))
            {
                oldest = entry;
                victim = id;
            }
        }
        if (victim is null || oldest is null)
            return false;
        Drop(victim, oldest);
        _evictions++;
        return true;
    }

    private void Drop(string conversationId, Entry entry)
    {
        _entries.Remove(conversationId);
        _usedBytes -= entry.Cache.Bytes;
        entry.Cache.Dispose();
    }

    private static string Size(long bytes) => bytes >= 1024 * 1024
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):0.#} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB");

    /// <summary>Frees every cache; leases still held end with it (their caches can no longer be reached).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            foreach (var entry in _entries.Values)
            {
                entry.Holder?.End();
                entry.Cache.Dispose();
            }
            _entries.Clear();
            _usedBytes = 0;
        }
    }

    private sealed class Entry(KvCache cache)
    {
        public KvCache Cache { get; } = cache;

        /// <summary>The lease running a request on this cache, or null while the cache is idle.</summary>
        public KvCacheLease? Holder { get; set; }

        public long LastUse { get; set; }
    }
}
