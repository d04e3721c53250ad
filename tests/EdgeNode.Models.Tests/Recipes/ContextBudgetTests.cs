using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;

namespace EdgeNode.Models.Tests.Recipes;

public sealed class ContextBudgetTests
{
    // Llama-3.2-1B: 16 layers, 8 KV heads of 64: 64 KiB of float32 keys and values per position.
    private static readonly long s_llamaKv = ContextBudget.KvBytesPerPositionOf(16, 8, 64, KvPrecision.Fp32);

    [Fact]
    public void KvPerPositionCountsKeysValuesAndPaddedHeads()
    {
        Assert.Equal(64 * 1024, s_llamaKv);
        // stories260K's heads of 8 are stored padded to 16.
        Assert.Equal(2L * 5 * 4 * 16 * 4, ContextBudget.KvBytesPerPositionOf(5, 4, 8, KvPrecision.Fp32));
    }

    [Fact]
    public void AFloat16CacheHalvesTheBytesAndDoublesTheMemoryBoundContext()
    {
        var half = ContextBudget.KvBytesPerPositionOf(16, 8, 64, KvPrecision.Fp16);
        Assert.Equal(s_llamaKv / 2, half);
        var weights = 1L << 30;
        var full = ContextBudget.Choose(131072, null, 4L << 30, weights, s_llamaKv);
        var halved = ContextBudget.Choose(131072, null, 4L << 30, weights, half);
        Assert.Equal(2 * full.MemoryLimit, halved.MemoryLimit);
    }

    [Fact]
    public void Int4WeightsDefaultToAFloat16Cache()
    {
        Assert.Equal(KvPrecision.Fp32, KvPrecisionNames.DefaultFor(WeightPrecision.Fp32));
        Assert.Equal(KvPrecision.Fp32, KvPrecisionNames.DefaultFor(WeightPrecision.Int8));
        Assert.Equal(KvPrecision.Fp16, KvPrecisionNames.DefaultFor(WeightPrecision.Int4));
        Assert.Equal(KvPrecision.Fp16, new ConversionOptions { Precision = WeightPrecision.Int4 }.EffectiveKvPrecision);
        Assert.Equal(KvPrecision.Fp16, new ConversionOptions { Precision = WeightPrecision.Int8, KvPrecision = KvPrecision.Fp16 }.EffectiveKvPrecision);
    }

    [Fact]
    public void MemoryDecidesWhenItIsTheTightestLimit()
    {
        var weights = 1L << 30;
        var budget = ContextBudget.Choose(131072, null, 4L << 30, weights, s_llamaKv);
        var left = (4L << 30) - (long)Math.Ceiling(weights * ContextBudget.RuntimeOverhead);
        Assert.Equal(left / s_llamaKv / ContextBudget.Granularity * ContextBudget.Granularity, budget.Positions);
        Assert.Equal("memory", budget.DecidedBy);
        Assert.True(budget.KvBytes + weights * ContextBudget.RuntimeOverhead <= 4L << 30);
        Assert.True(budget.Fits);
    }

    [Fact]
    public void TheSettingAndTheModelCapTheContext()
    {
        Assert.Equal(8192, ContextBudget.Choose(131072, 8192, 64L << 30, 1L << 30, s_llamaKv).Positions);
        Assert.Equal(2048, ContextBudget.Choose(2048, null, 64L << 30, 1L << 30, s_llamaKv).Positions);
    }

    [Fact]
    public void ARequestAboveALimitIsAnErrorNamingIt()
    {
        var budget = ContextBudget.Choose(40960, null, 4L << 30, 1L << 30, 224 * 1024);
        var model = Assert.Throws<ContextTooLargeException>(() => budget.Request(50000));
        Assert.Contains("model's context of 40960", model.Message, StringComparison.Ordinal);
        var memory = Assert.Throws<ContextTooLargeException>(() => budget.Request(budget.MemoryLimit + 1));
        Assert.Contains($"memory allows --context {budget.MemoryLimit} or less", memory.Message, StringComparison.Ordinal);
        Assert.Equal(1000, budget.Request(1000).Positions);
    }

    [Fact]
    public void WeightsThatFillMemoryLeaveNoContext()
    {
        var budget = ContextBudget.Choose(131072, null, 1L << 30, 1L << 30, s_llamaKv);
        Assert.Equal(0, budget.Positions);
        Assert.False(budget.Fits);
    }
}
