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
    public void EverySixtyFourBitsOfTheSeedCount()
    {
        // 0x1_0000_0001 folded into 32 bits (high ^ low) is 0: the two must still give different streams.
        var seeds = new ulong[] { 0, 1, 0x1_0000_0001, 0x1_0000_0000, 0x8000_0000_0000_0000 };
        var logits = Enumerable.Range(0, 64).Select(i => (float)(i % 7) * 0.1f).ToArray();
        var streams = seeds.Select(seed =>
        {
            var sampler = new TokenSampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, Seed = seed });
            Assert.Equal(seed, sampler.Seed);
            return string.Join(',', Enumerable.Range(0, 64).Select(_ => sampler.Sample(logits.ToArray(), [])));
        }).ToArray();
        Assert.Equal(seeds.Length, streams.Distinct().Count());
    }

    [Theory]
    [InlineData(1e-6f)]
    [InlineData(1e-30f)]
    [InlineData(float.Epsilon)]
    public void ATemperatureTooSmallToDivideByIsGreedy(float temperature)
    {
        var sampler = new TokenSampler(new SamplingOptions { Temperature = temperature, TopK = 0, TopP = 1, Seed = 3 });
        Assert.True(sampler.IsGreedy);
        // Logits a hair apart: a real (if tiny) temperature would still be a coin toss between 1 and 5.
        float[] close = [0.1f, 2.5f, 2.4f, -1f, 0.7f, 2.4999998f];
        for (var i = 0; i < 200; i++)
            Assert.Equal(1, sampler.Sample(close.ToArray(), []));
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
    public void TopPIsTakenOverTheTopKRenormalised()
    {
        // Probabilities 0.30 0.25 0.20 0.15 0.10. Top-k 3 renormalises to 0.400 0.333 0.267, so top-p 0.6
        // is reached by two tokens (0.733). Over the raw probabilities it would take three (0.30 0.55 0.75).
        float[] logits = [MathF.Log(0.30f), MathF.Log(0.25f), MathF.Log(0.20f), MathF.Log(0.15f), MathF.Log(0.10f)];
        var sampler = new TokenSampler(new SamplingOptions { Temperature = 1, TopK = 3, TopP = 0.6f, Seed = 11 });
        var drawn = Enumerable.Range(0, 2000).Select(_ => sampler.Sample(logits.ToArray(), [])).ToHashSet();
        Assert.Equal([0, 1], sampler.CandidateTokens.ToArray());
        Assert.Equal(0.30 / 0.55, sampler.CandidateProbabilities[0], 1e-6);
        Assert.Equal(0.25 / 0.55, sampler.CandidateProbabilities[1], 1e-6);
        Assert.Equal(new HashSet<int> { 0, 1 }, drawn);
    }

    public static TheoryData<int, float, int, float> SelectionCases => new()
    {
        { 1000, 0.8f, 40, 0.95f },
        { 32000, 0.8f, 40, 0.95f },
        { 32000, 0.3f, 5, 0.5f },
        { 32000, 1.0f, 1000, 0.99f },
        { 32000, 0.8f, 0, 0.95f },
        { 32000, 2.0f, 0, 0.99f },
        { 2000, 1.0f, 0, 1f },
        { 2000, 1.5f, 2000, 0.9f },
    };

    [Theory]
    [MemberData(nameof(SelectionCases))]
    public void PartialSelectionKeepsWhatAFullSortKeeps(int vocab, float temperature, int topK, float topP)
    {
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, Seed = 5 };
        var sampler = new TokenSampler(options);
        foreach (var logits in new[] { TokenSamplerBenchmark.SyntheticLogits(vocab, vocab), Quantised(TokenSamplerBenchmark.SyntheticLogits(vocab, vocab + 1)) })
        {
            var (tokens, probabilities) = FullSortReference.Candidates(logits, options);
            sampler.Sample(logits.ToArray(), []);
            var candidates = sampler.CandidateTokens.ToArray();
            var candidateProbabilities = sampler.CandidateProbabilities.ToArray();
            if (topK == 0 && topP >= 1)
            {
                // The whole vocabulary is kept in id order; nothing needed sorting.
                Assert.Equal(Enumerable.Range(0, vocab), candidates);
                var byId = tokens.Zip(probabilities).OrderBy(pair => pair.First).Select(pair => pair.Second).ToArray();
                for (var i = 0; i < vocab; i++)
                    Assert.Equal(byId[i], candidateProbabilities[i], 1e-6);
                continue;
            }
            Assert.Equal(tokens, candidates);
            for (var i = 0; i < tokens.Length; i++)
                Assert.Equal(probabilities[i], candidateProbabilities[i], 1e-5);
        }
    }

    public static TheoryData<float, int, float> DistributionCases => new()
    {
        { 1.0f, 0, 1f },
        { 0.7f, 6, 0.9f },
        { 1.3f, 0, 0.8f },
        { 0.9f, 4, 1f },
    };

    /// <summary>
    /// Drawn over many seeds (the first draw of each, then one long stream), the tokens follow the truncated
    /// softmax: total variation distance under 0.02 from the reference's probabilities. 20000 draws over
    /// eight tokens put the expected distance near 0.008, and the seeds are fixed, so this is deterministic.
    /// </summary>
    [Theory]
    [MemberData(nameof(DistributionCases))]
    public void DrawsFollowTheTruncatedSoftmax(float temperature, int topK, float topP)
    {
        float[] logits = [1.2f, -0.4f, 0.9f, 2.0f, 0.1f, 1.7f, -1.5f, 0.5f];
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP };
        var (tokens, probabilities) = FullSortReference.Candidates(logits, options);
        var expected = new double[logits.Length];
        for (var i = 0; i < tokens.Length; i++)
            expected[tokens[i]] = probabilities[i];

        const int Draws = 20000;
        var firstDraws = new int[logits.Length];
        for (var seed = 0; seed < Draws; seed++)
            firstDraws[new TokenSampler(options with { Seed = (ulong)seed * 0x9E3779B97F4A7C15UL }).Sample(logits.ToArray(), [])]++;
        var stream = new int[logits.Length];
        var sampler = new TokenSampler(options with { Seed = 2024 });
        for (var i = 0; i < Draws; i++)
            stream[sampler.Sample(logits.ToArray(), [])]++;

        foreach (var counts in new[] { firstDraws, stream })
        {
            var distance = 0.5 * expected.Select((p, i) => Math.Abs(p - (double)counts[i] / Draws)).Sum();
            Assert.True(distance < 0.02, $"total variation {distance:F4} from the truncated softmax; counts {string.Join(' ', counts)}");
            for (var i = 0; i < logits.Length; i++)
            {
                if (expected[i] == 0)
                    Assert.Equal(0, counts[i]);
            }
        }
    }

    [Theory]
    [InlineData(40, 0.95f)]
    [InlineData(0, 0.95f)]
    [InlineData(0, 1f)]
    public void SamplingAllocatesNothingPerToken(int topK, float topP)
    {
        var sampler = new TokenSampler(new SamplingOptions { TopK = topK, TopP = topP, RepetitionPenalty = 1.1f, Seed = 9 });
        var logits = TokenSamplerBenchmark.SyntheticLogits(32000, 1);
        var history = Enumerable.Range(0, 100).Select(i => i * 317 % 32000).ToArray();
        var work = new float[logits.Length];
        for (var i = 0; i < 3; i++)
        {
            logits.CopyTo(work, 0);
            sampler.Sample(work, history);
        }
        // Enough calls that one object per call would show (the smallest object is 24 bytes: 48 000 bytes in all), while
        // one-off allocations by the runtime itself while it re-compiles the hot loop (seen at 280 and 3 808 bytes) do not.
        const int Calls = 2000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            logits.CopyTo(work, 0);
            sampler.Sample(work, history);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < Calls * 24L, $"{Calls} samples allocated {allocated} managed bytes: at least one object per sample");
    }

    [Fact]
    public void RepetitionPenaltyMovesOffARecentToken()
    {
        var sampler = new TokenSampler(SamplingOptions.Greedy with { RepetitionPenalty = 1.5f });
        Assert.Equal(5, sampler.Sample(Logits(), [1, 2]));
    }

    [Fact]
    public void RepetitionPenaltyCountsATokenOnceAndOnlyInItsWindow()
    {
        var sampler = new TokenSampler(SamplingOptions.Greedy with { RepetitionPenalty = 2f, RepetitionWindow = 3 });
        float[] logits = [4f, 1f, -1f, 3f];
        sampler.Sample(logits, [3, 0, 0, 2, 0]);
        // 3 is outside the window; 0 appears thrice but is divided once; a negative logit is multiplied.
        Assert.Equal([2f, 1f, -2f, 3f], logits);
        // The marks are cleared: the next step penalises afresh.
        float[] again = [4f, 1f, -1f, 3f];
        Assert.Equal(3, sampler.Sample(again, [0]));
    }

    [Fact]
    public void BadOptionsAreRejectedByName()
    {
        Assert.Contains("--temperature", Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions { Temperature = -1 })).Message, StringComparison.Ordinal);
        Assert.Contains("--top-p", Assert.Throws<ArgumentException>(() => new TokenSampler(new SamplingOptions { TopP = 0 })).Message, StringComparison.Ordinal);
    }

    // Logits rounded to halves: many exact ties, which must be broken by id the way a stable sort does.
    private static float[] Quantised(float[] logits) => logits.Select(l => MathF.Round(l * 2) / 2).ToArray();
}
