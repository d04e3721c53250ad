using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Speculative;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// A speculative round (draft k tokens with a model, verify them in one pass, roll back) allocates no object per token.
/// What a round does allocate is the slice sessions' rebinding when the pass changes shape (one position for a draft
/// step, k+1 for a verify pass): <c>SliceSession.PrepareBuffers</c> wraps its buffers in new ONNX Runtime tensors, a few
/// small objects per slice. That is per round, not per token, and bounded here by <see cref="BytesPerRound"/>.
/// </summary>
[Collection(PairModelsCollection.Name)]
public sealed class RoundAllocationTests(PairModels models)
{
    /// <summary>Three slices (embed, layers, head) of two models, each rebinding an input and an output tensor with their shapes.</summary>
    private const long BytesPerRound = 512;

    [Theory]
    [InlineData(0f)]
    [InlineData(0.8f)]
    public void DraftAndVerifyRoundsAllocateNothingPerToken(float temperature)
    {
        var target = models.Get("stories260K");
        var sampling = temperature == 0 ? SamplingOptions.Greedy : new SamplingOptions { Temperature = temperature, Seed = 3 };
        using var drafter = new ModelDrafter(models.Get("llama2xs-tok512-280K"), sampling, 256, "draft");
        var vocab = target.Config.VocabSize;
        using var state = target.CreateState(256);
        var verifier = new DraftVerifier(vocab, target.Tokenizer.VocabSize, sampling, 8, 256);
        verifier.Reset(target.Tokenizer.Encode("Once upon a time"));
        verifier.Prefill(target, state);
        var draft = new DraftBuffer(8, vocab);
        var tokens = 0;
        var rounds = 0;
        void Round()
        {
            rounds++;
            drafter.Propose(verifier.History, 4, draft);
            tokens += verifier.Verify(target, state, draft).Accepted + 1;
        }
        // Warm-up: buffers reach their size, ONNX Runtime sets up its arenas, the runtime compiles the hot loop.
        for (var i = 0; i < 8; i++)
            Round();
        tokens = 0;
        rounds = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        // Well inside the caches' first allocation (growth allocates by design) and the history's first buffer.
        while (tokens < 150)
            Round();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The smallest managed object is 24 bytes: less than that per token, once the rounds' rebinding is set apart, means no token allocates.
        Assert.True(allocated < rounds * BytesPerRound + tokens * 24L,
            $"{tokens} tokens in {rounds} speculative rounds allocated {allocated} managed bytes: more than the rounds' rebinding, so tokens allocate");
    }
}
