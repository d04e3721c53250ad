using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Speculative;
using Xunit.Abstractions;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// Speculative rejection sampling leaves the target's distribution unchanged. For a fixed history, many rounds (each
/// with its own seed) draft k tokens with the other model and let the target verify them; the first token each round
/// emits must follow the target's own next-token distribution p (computed exactly from its logits).
/// <para>
/// Tolerance: with N draws the empirical total-variation distance to p has mean at most
/// ½ Σ sqrt(p_i(1 − p_i)/N) (Jensen per token), and one draw moves it by at most 1/N, so by McDiarmid's inequality it
/// exceeds that mean by t with probability at most exp(−2Nt²). t = sqrt(ln(10⁶)/(2N)) makes a false failure a one in a
/// million event. The test also checks that it could fail: the draft's own distribution q is further from p than the
/// tolerance (so keeping every draft, or a wrong residual, would be caught), and drafts were both kept and rejected.
/// </para>
/// </summary>
[Collection(PairModelsCollection.Name)]
public sealed class SamplingDistributionTests(PairModels models, ITestOutputHelper output)
{
    private const int Draws = 3000;

    public static TheoryData<string, float, int, float, bool> Cases() => new()
    {
        // target, temperature, top-k, top-p, draft sends its distribution (false: one-hot drafts from a greedy draft model)
        { "llama2xs-tok512-280K", 1.0f, 0, 1.0f, true },
        { "stories260K", 0.9f, 40, 0.95f, true },
        { "stories260K", 1.0f, 0, 1.0f, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void FirstEmittedTokenFollowsTheTargetDistribution(string targetName, float temperature, int topK, float topP, bool draftDistributions)
    {
        var target = models.Get(targetName);
        var draftModel = models.Get(PairModels.Names.Single(n => n != targetName));
        var history = target.Tokenizer.Encode("Once upon a time, there was a little");
        var sampling = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, Seed = 1 };
        var vocab = target.Config.VocabSize;

        // p: the target's distribution after the history, as its own sampler computes it.
        var p = new double[vocab];
        using (var state = target.CreateState(64))
        {
            var logits = target.Forward(history, state).ToArray();
            var sampler = new TokenSampler(sampling);
            sampler.Distribution(logits, history);
            for (var i = 0; i < sampler.CandidateTokens.Length; i++)
                p[sampler.CandidateTokens[i]] = sampler.CandidateProbabilities[i];
        }

        var counts = new int[vocab];
        var q = new double[vocab];
        var draftSampling = draftDistributions ? sampling with { Seed = 99 } : SamplingOptions.Greedy;
        using var drafter = new ModelDrafter(draftModel, draftSampling, 64, "draft");
        var draft = new DraftBuffer(4, vocab);
        using var state2 = target.CreateState(64);
        int kept = 0, rejected = 0;
        for (var n = 0; n < Draws; n++)
        {
            var verifier = new DraftVerifier(vocab, target.Tokenizer.VocabSize, sampling with { Seed = (ulong)n + 1000 }, 4, 64);
            verifier.Reset(history);
            verifier.Prefill(target, state2);
            drafter.Propose(history, 4, draft);
            if (draftDistributions)
            {
                for (var i = 0; i < draft.CandidateIds(0).Length; i++)
                    q[draft.CandidateIds(0)[i]] += draft.CandidateProbabilities(0)[i] / Draws;
            }
            else
            {
                q[draft.Tokens[0]] += 1.0 / Draws;
            }
            var decision = verifier.Verify(target, state2, draft);
            var first = decision.Accepted > 0 ? draft.Tokens[0] : decision.Token;
            counts[first]++;
            if (decision.Accepted > 0) kept++; else rejected++;
        }

        var tv = 0.0;
        var expected = 0.0;
        var draftDistance = 0.0;
        for (var i = 0; i < vocab; i++)
        {
            tv += Math.Abs(counts[i] / (double)Draws - p[i]) / 2;
            expected += Math.Sqrt(p[i] * (1 - p[i]) / Draws) / 2;
            draftDistance += Math.Abs(q[i] - p[i]) / 2;
        }
        var tolerance = expected + Math.Sqrt(Math.Log(1e6) / (2.0 * Draws));
        output.WriteLine($"{targetName} T={temperature} top-k {topK} top-p {topP} q sent: {draftDistributions}: TV(empirical, p) = {tv:F4}, tolerance {tolerance:F4} " +
                         $"(mean bound {expected:F4}); TV(q, p) = {draftDistance:F4}; first draft kept {kept}, rejected {rejected}");
        Assert.True(tv <= tolerance, $"TV {tv:F4} > tolerance {tolerance:F4}");
        Assert.True(draftDistance > tolerance, $"the draft distribution is within {draftDistance:F4} of p: the test could not tell a broken acceptance rule apart");
        Assert.True(kept > Draws / 20 && rejected > Draws / 20, $"kept {kept}, rejected {rejected}: both branches must run");
    }
}
