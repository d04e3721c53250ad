using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// What speculative decoding, failover replay and a many-user pool node need from a session: k+1 positions
/// in one run, truncation without recompute, and many conversations' caches side by side.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class ConversationStateTests(ConvertedModels models)
{
    private static readonly int[] s_prompt = [1, 403, 407, 261, 378];
    private static readonly int[] s_draft = [432, 383, 286, 261];

    private LocalModel Load() => LocalModel.Load(models.Runtime, models.Folder("stories260K", WeightPrecision.Fp32), TestPaths.Model("stories260K", "tok512.bin"));

    [Fact]
    public void VerifyingKDraftTokensInOneRunEqualsOneAtATime()
    {
        using var local = Load();
        var vocab = local.Config.VocabSize;

        using var batched = local.CreateState(64);
        local.Forward(s_prompt, batched);
        var all = local.Forward(s_draft, batched, allPositions: true).ToArray();
        Assert.Equal(s_draft.Length * vocab, all.Length);
        Assert.Equal(s_prompt.Length + s_draft.Length, batched.Length);

        using var stepwise = local.CreateState(64);
        local.Forward(s_prompt, stepwise);
        for (var i = 0; i < s_draft.Length; i++)
        {
            var one = local.Forward([s_draft[i]], stepwise).ToArray();
            AssertClose(all.AsSpan(i * vocab, vocab), one, 3e-5f);   // measured at most 1.0e-5
        }
    }

    [Fact]
    public void TruncateDropsRejectedDraftsWithoutRecompute()
    {
        using var local = Load();
        int[] replacement = [300, 301];

        using var state = local.CreateState(64);
        local.Forward(s_prompt, state);
        local.Forward(s_draft, state, allPositions: true);
        // Accept the first draft token, reject the other three, continue differently.
        state.Truncate(s_prompt.Length + 1);
        Assert.Equal(s_prompt.Length + 1, state.Length);
        var afterTruncate = local.Forward(replacement, state, allPositions: true).ToArray();

        using var fresh = local.CreateState(64);
        local.Forward([.. s_prompt, s_draft[0]], fresh);
        var expected = local.Forward(replacement, fresh, allPositions: true).ToArray();
        AssertClose(afterTruncate, expected, 0);   // the same positions through the same graph: bit for bit
    }

    [Fact]
    public void InterleavedConversationsDoNotDisturbEachOther()
    {
        using var local = Load();
        int[] other = [1, 317, 269, 274, 287];

        using var a = local.CreateState(64);
        using var b = local.CreateState(64);
        local.Forward(s_prompt, a);
        local.Forward(other, b);
        var aNext = local.Forward([s_draft[0]], a).ToArray();
        var bNext = local.Forward([s_draft[0]], b).ToArray();

        using var aliceAlone = local.CreateState(64);
        local.Forward(s_prompt, aliceAlone);
        AssertClose(aNext, local.Forward([s_draft[0]], aliceAlone).ToArray(), 0);
        using var bobAlone = local.CreateState(64);
        local.Forward(other, bobAlone);
        AssertClose(bNext, local.Forward([s_draft[0]], bobAlone).ToArray(), 0);
    }

    [Fact]
    public void RunningPastTheCapacityIsAClearError()
    {
        using var local = Load();
        using var state = local.CreateState(6);
        local.Forward(s_prompt, state);
        var e = Assert.Throws<ContextFullException>(() => local.Forward(s_draft, state));
        Assert.Contains("context full", e.Message, StringComparison.Ordinal);
        // Nothing was written: the conversation can go on within its capacity.
        Assert.Equal(s_prompt.Length, state.Length);
        local.Forward([s_draft[0]], state);
    }

    private static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0f;
        for (var i = 0; i < actual.Length; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]));
        Assert.True(worst <= tolerance, $"max |Δ| {worst} > {tolerance}");
    }
}
