using EdgeNode.Inference.Sessions;

namespace EdgeNode.Verifier;

/// <summary>
/// The KV caches of every verifier session on one model, under one memory budget: a <see cref="KvCachePool"/> per layer
/// slice (a conversation holds one cache per slice), each with its share of the budget. A session's caches are leased
/// for a round and handed back; idle sessions' caches are evicted least recently used first when a new one needs room,
/// and the session replays its history into fresh caches on its next round, so eviction costs time, never tokens.
/// </summary>
internal sealed class ModelCaches : IDisposable
{
    private readonly KvCachePool[] _pools;

    public ModelCaches(LocalModel model, long budgetBytes)
    {
        Model = model;
        Capacity = model.Config.MaxSeqLen;
        var slices = model.LayerSliceCount;
        _pools = new KvCachePool[slices];
        var layers = model.Config.Layers;
        for (var s = 0; s < slices; s++)
        {
            var slice = s;
            // Each slice's share follows its layers; creating one cache tells the pool the layer count it holds.
            using var probe = model.CreateCache(slice, 1);
            var share = Math.Max(1, budgetBytes * (probe.EndLayer - probe.FirstLayer) / layers);
            _pools[s] = new KvCachePool(share, () => model.CreateCache(slice, Capacity));
        }
    }

    public LocalModel Model { get; }

    /// <summary>Positions every session on this model may hold (the pool's caches are one size).</summary>
    public int Capacity { get; }

    /// <summary>Leases the session's caches (creating them if new or evicted) as one conversation state.</summary>
    public Lease Acquire(string session)
    {
        var leases = new KvCacheLease[_pools.Length];
        var taken = 0;
        try
        {
            for (; taken < _pools.Length; taken++)
                leases[taken] = _pools[taken].Acquire(session);
        }
        catch
        {
            for (var i = 0; i < taken; i++)
                leases[i].Dispose();
            throw;
        }
        var caches = new KvCache[leases.Length];
        var shortest = int.MaxValue;
        for (var i = 0; i < leases.Length; i++)
        {
            caches[i] = leases[i].Cache;
            shortest = Math.Min(shortest, caches[i].Length);
        }
        var state = Model.StateOver(caches);
        // One slice evicted and another kept: the conversation is as long as its shortest cache.
        if (caches.Any(c => c.Length != shortest))
            state.Truncate(shortest);
        return new Lease(leases, state);
    }

    public void Remove(string session)
    {
        foreach (var pool in _pools)
            pool.Remove(session);
    }

    public int Count => _pools[0].Count;

    public long Evictions => _pools.Sum(p => p.Evictions);

    public void Dispose()
    {
        foreach (var pool in _pools)
            pool.Dispose();
    }

    /// <summary>A session's caches for one round.</summary>
    public sealed class Lease(KvCacheLease[] leases, ConversationState state) : IDisposable
    {
        public ConversationState State { get; } = state;

        /// <summary>A failed pass leaves positions that must not be trusted: the caches go, the next round replays.</summary>
        public void Discard()
        {
            foreach (var lease in leases)
                lease.Discard();
        }

        public void Dispose()
        {
            foreach (var lease in leases)
                lease.Dispose();
        }
    }
}
