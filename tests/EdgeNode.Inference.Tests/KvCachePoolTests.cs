using EdgeNode.Inference.Sessions;
using EdgeNode.Models;

namespace EdgeNode.Inference.Tests;

public sealed class KvCachePoolTests
{
    private static readonly LlamaConfig s_config = new(64, 172, 5, 8, 4, 512, 512);

    // 5 layers x 2 x 4 heads x 16 positions x 16 floats (head size 8 padded to 16) x 4 bytes.
    private const int CacheBytes = 5 * 2 * 4 * 16 * 16 * 4;

    private static KvCache NewCache() => new(s_config, 0, 5, 16);

    [Fact]
    public void AccountsMemoryPerConversation()
    {
        using var pool = new KvCachePool(100_000, NewCache);
        using (pool.Acquire("a")) { }
        using (pool.Acquire("b")) { }
        Assert.Equal(2, pool.Count);
        Assert.Equal(2 * CacheBytes, pool.UsedBytes);
        pool.Remove("a");
        Assert.Equal(CacheBytes, pool.UsedBytes);
    }

    [Fact]
    public void EvictsTheLeastRecentlyUsedIdleConversation()
    {
        using var pool = new KvCachePool(3 * CacheBytes, NewCache);
        using (pool.Acquire("a")) { }
        using (pool.Acquire("b")) { }
        using (pool.Acquire("c")) { }
        using (pool.Acquire("a")) { }          // a is now more recent than b
        using (var d = pool.Acquire("d"))
            Assert.True(d.Created);
        Assert.False(pool.Contains("b"));
        Assert.True(pool.Contains("a"));
        Assert.Equal(1, pool.Evictions);
        using var again = pool.Acquire("b");
        Assert.True(again.Created);              // the caller must replay b's tokens
    }

    [Fact]
    public void NeverEvictsAConversationThatIsRunning()
    {
        using var pool = new KvCachePool(2 * CacheBytes, NewCache);
        using var a = pool.Acquire("a");
        using var b = pool.Acquire("b");
        var e = Assert.Throws<InsufficientMemoryException>(() => pool.Acquire("c"));
        Assert.Contains("KV cache budget 80 KiB is full", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => pool.Acquire("a"));
    }

    [Fact]
    public void AStaleLeaseCannotReachTheCacheOfALaterAcquisition()
    {
        using var pool = new KvCachePool(100_000, NewCache);
        var first = pool.Acquire("a");
        first.Dispose();
        using var second = pool.Acquire("a");
        first.Dispose();                                            // stale: a no-op, the second lease still holds
        Assert.Throws<InvalidOperationException>(() => pool.Acquire("a"));
        var e = Assert.Throws<ObjectDisposedException>(() => first.Cache);
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, second.Cache.Length);
    }

    [Fact]
    public void ALeaseOfAnEvictedConversationCannotReachItsRecreatedCache()
    {
        using var pool = new KvCachePool(CacheBytes, NewCache);
        var old = pool.Acquire("a");
        old.Dispose();
        using (pool.Acquire("b")) { }                               // evicts a
        using var recreated = pool.Acquire("a");                   // evicts b
        Assert.True(recreated.Created);
        old.Dispose();
        Assert.Throws<InvalidOperationException>(() => pool.Acquire("a"));
        Assert.Throws<ObjectDisposedException>(() => old.Cache);
        Assert.Equal(CacheBytes, pool.UsedBytes);
    }

    [Fact]
    public void AHolderCanDiscardItsCacheButAStaleLeaseCannot()
    {
        using var pool = new KvCachePool(100_000, NewCache);
        var first = pool.Acquire("a");
        first.Discard();                                           // a failed run: the cache is dropped
        Assert.False(pool.Contains("a"));
        Assert.Equal(0, pool.UsedBytes);
        using var second = pool.Acquire("a");
        Assert.True(second.Created);
        Assert.Throws<ObjectDisposedException>(first.Discard);
        Assert.True(pool.Contains("a"));
        Assert.Equal(CacheBytes, pool.UsedBytes);
    }

    [Fact]
    public void LeasesEndWithTheirPool()
    {
        var pool = new KvCachePool(100_000, NewCache);
        var lease = pool.Acquire("a");
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lease.Cache);
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Acquire("a"));
    }

    [Fact]
    public void RemovingARunningConversationIsRefused()
    {
        using var pool = new KvCachePool(100_000, NewCache);
        var lease = pool.Acquire("a");
        var e = Assert.Throws<InvalidOperationException>(() => pool.Remove("a"));
        Assert.Contains("'a' is running", e.Message, StringComparison.Ordinal);
        Assert.True(pool.Contains("a"));
        Assert.Equal(0, lease.Cache.Length);                       // still usable: not disposed under the holder
        Assert.Equal(CacheBytes, pool.UsedBytes);
        lease.Dispose();
        pool.Remove("a");
        Assert.False(pool.Contains("a"));
        Assert.Equal(0, pool.UsedBytes);
    }

    [Fact]
    public void LeastRecentlyUsedCountsTheEndOfARequest()
    {
        using var pool = new KvCachePool(2 * CacheBytes, NewCache);
        var a = pool.Acquire("a");                                 // a starts first ...
        var b = pool.Acquire("b");
        b.Dispose();
        a.Dispose();                                               // ... but finishes last: b is the least recently used
        using (pool.Acquire("c")) { }
        Assert.False(pool.Contains("b"));
        Assert.True(pool.Contains("a"));
    }

    [Fact]
    public void ACacheLargerThanTheWholeBudgetIsRefusedWithoutEvictingOthers()
    {
        var made = 0;
        // The third cache holds 64 positions: four times a 16-position cache, above the 3-cache budget.
        using var pool = new KvCachePool(3 * CacheBytes, () => ++made <= 2 ? NewCache() : new KvCache(s_config, 0, 5, 64));
        using (pool.Acquire("a")) { }
        using (pool.Acquire("b")) { }
        var e = Assert.Throws<InsufficientMemoryException>(() => pool.Acquire("c"));
        Assert.Contains("larger than the whole KV cache budget", e.Message, StringComparison.Ordinal);
        Assert.True(pool.Contains("a"));
        Assert.True(pool.Contains("b"));
        Assert.Equal(0, pool.Evictions);
        Assert.Equal(2 * CacheBytes, pool.UsedBytes);
    }

    [Fact]
    public async Task ManyTasksAcquiringAndReleasingKeepTheBudgetAndOneHolderPerConversation()
    {
        const int Tasks = 16, Iterations = 500, Conversations = 6, Slots = 3;
        using var pool = new KvCachePool(Slots * CacheBytes, NewCache);
        var holders = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var violations = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long acquired = 0, running = 0, full = 0, removed = 0;

        using var start = new ManualResetEventSlim();
        // Each task on its own thread, all released at once, so acquisitions really overlap on a small machine.
        var workers = Enumerable.Range(0, Tasks).Select(worker => Task.Factory.StartNew(() =>
        {
            start.Wait();
            var random = new Random(worker);
            for (var i = 0; i < Iterations; i++)
            {
                var id = "c" + random.Next(Conversations);
                if (random.Next(8) == 0)
                {
                    try { pool.Remove(id); Interlocked.Increment(ref removed); }
                    catch (InvalidOperationException) { Interlocked.Increment(ref running); }
                    continue;
                }
                KvCacheLease lease;
                try { lease = pool.Acquire(id); }
                catch (InvalidOperationException) { Interlocked.Increment(ref running); continue; }
                catch (InsufficientMemoryException) { Interlocked.Increment(ref full); continue; }
                using (lease)
                {
                    Interlocked.Increment(ref acquired);
                    if (!holders.TryAdd(id, worker))
                        violations.Enqueue($"two leases on {id}");
                    if (pool.UsedBytes > pool.BudgetBytes)
                        violations.Enqueue($"{pool.UsedBytes} bytes used > budget {pool.BudgetBytes}");
                    Thread.SpinWait(random.Next(2000));
                    Thread.Yield();
                    holders.TryRemove(id, out _);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        start.Set();
        await Task.WhenAll(workers);

        Assert.Empty(violations);
        Assert.Equal(Tasks * Iterations, acquired + running + full + removed);
        Assert.True(acquired >= Iterations, $"only {acquired} acquisitions succeeded (running {running}, full {full}, removed {removed})");
        Assert.True(running > 0 && full > 0 && removed > 0, $"running {running}, full {full}, removed {removed}: the run did not reach every path");
        Assert.InRange(pool.Count, 0, Slots);
        Assert.Equal(pool.Count * (long)CacheBytes, pool.UsedBytes);
        for (var c = 0; c < Conversations; c++)
            pool.Remove("c" + c);                                   // nothing is left running
        Assert.Equal(0, pool.Count);
        Assert.Equal(0, pool.UsedBytes);
    }

    [Fact]
    public void TruncateOnlyGoesBackwards()
    {
        using var cache = NewCache();
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(1));
        cache.Truncate(0);
        Assert.Equal(0, cache.Length);
    }
}
