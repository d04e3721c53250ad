using EdgeNode.Inference.Sampling;

namespace EdgeNode.Inference.Tests;

public sealed class TokenSamplerTests
{
    private static float[] Logits() => [0.1f, 2.5f, 2.4f, -1f, 0.7f, 2.49f];

    [Fact]
    public void GreedyTakesTheArgmaxAndTheFirstOfATie()
    {
        var sampler = new TokenSampler(SamplingOptions.Greedy);
        Assert.Equal(1, sampler.Sample(Logits(), []));
        Assert.Equal(0, TokenSampler.ArgMax([3f, 3f, 1f]));
    }

    [Fact]
    public void TheSameSeedGivesTheSameSequence()
    {
        var options = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, Seed = 42 };
        var a = new TokenSampler(options);
        var b = new TokenSampler(options);
        var first = Enumerable.Range(0, 50).Select(_ => a.Sample(Logits(), [])).ToArray();
        var second = Enumerable.Range(0, 50).Select(_ => b.Sample(Logits(), [])).ToArray();
        Assert.Equal(first, second);
        Assert.True(first.Distinct().Count() > 2, "temperature 1.5 should visit several tokens");
    }

    [Fact]
    public void TopKOfOneAndATinyTopPAreGreedy()
    {
        var topK = new TokenSampler(new SamplingOptions { Temperature = 1, TopK = 1, TopP = 1, Seed = 1 });
        var topP = new TokenSampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 0.01f, Seed = 1 });
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(1, topK.Sample(Logits(), []));
            Assert.Equal(1, topP.Sample(Logits(), []));
        }
    }

    [Fact]
    public void TopKKeepsOnlyTheKLikeliest()
    {
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 5, TopK = 3, TopP = 1, Seed = 7 });
        var seen = Enumerable.Range(0, 300).Select(_ => sampler.Sample(Logits(), [])).ToHashSet();
        Assert.Subset(new HashSet<int> { 1, 2, 5 }, seen);
    }

    [Fact]
    public void RepetitionPenaltyMovesOffARecentToken()
    {
        var sampler = new TokenSampler(SamplingOptions.Greedy with { RepetitionPenalty = 1.5f });
        Assert.Equal(5, sampler.Sample(Logits(), [1, 2]));
    }

    [Fact]
    public void BadOptionsAreRejectedByName()
    {
        Assert.Contains("--temperature", Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions { Temperature = -1 })).Message, StringComparison.Ordinal);
        Assert.Contains("--top-p", Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions { TopP = 0 })).Message, StringComparison.Ordinal);
    }
}
