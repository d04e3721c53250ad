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
        Assert.Contains("KV cache budget", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => pool.Acquire("a"));
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
