using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// The threading model of sessions on a real model: one run at a time (an overlapping run is refused, never mixed into
/// the first), and a chain that fails partway leaves the conversation's caches at one length.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class SessionThreadingTests(ConvertedModels models)
{
    private static readonly int[] s_prompt = [1, 403, 407, 261, 378];

    private LocalModel Load(IReadOnlyList<(int, int)>? ranges = null) =>
        LocalModel.Load(models.Runtime, models.Folder("stories260K", WeightPrecision.Fp32, ranges), TestPaths.Model("stories260K", "tok512.bin"));

    [Fact]
    public void OverlappingRunsOnOneModelAreRefusedAndTheOthersStayExact()
    {
        using var local = Load();
        float[] expected;
        using (var alone = local.CreateState(64))
            expected = local.Forward(s_prompt, alone).ToArray();

        var refused = 0;
        var wrong = 0;
        using var go = new Barrier(2);
        void Worker()
        {
            go.SignalAndWait();
            // Bounded: each thread prefills fresh conversations until the other has been refused at least once.
            for (var i = 0; i < 2000 && Volatile.Read(ref refused) == 0; i++)
            {
                using var state = local.CreateState(64);
                try
                {
                    var logits = local.Forward(s_prompt, state);
                    if (!logits.SequenceEqual(expected))
                        Interlocked.Increment(ref wrong);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("already running", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref refused);
                    Assert.Equal(0, state.Length);
                }
            }
        }
        RunOnTwoThreads(Worker);
        Assert.True(refused > 0, "two threads ran one model 2000 times each and never overlapped");
        Assert.Equal(0, wrong);
    }

    [Fact]
    public void OverlappingRunsOnOneSliceSessionAreRefused()
    {
        using var local = Load();
        var slice = local.Manifest.Slices.Single(s => s.Embed && !s.Head);
        using var session = new SliceSession(models.Runtime, Path.Combine(local.Folder, slice.File), slice.ToSpec(), local.Config);
        var tokens = Enumerable.Range(0, 256).Select(i => 1 + (i % 400)).ToArray();
        var refused = 0;
        using var go = new Barrier(2);
        void Worker()
        {
            go.SignalAndWait();
            for (var i = 0; i < 5000 && Volatile.Read(ref refused) == 0; i++)
            {
                try
                {
                    session.RunTokens(tokens, null);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("already running", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }
        RunOnTwoThreads(Worker);
        Assert.True(refused > 0);
    }

    private static void RunOnTwoThreads(Action worker)
    {
        Exception? failure = null;
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            try { worker(); }
            catch (Exception e) { failure = e; }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (failure is not null)
            throw new InvalidOperationException("a worker thread failed", failure);
    }

    [Fact]
    public void AFailureInSliceTwoOfThreeRollsEveryCacheBack()
    {
        using var local = Load([(0, 2), (2, 4), (4, 5)]);
        var slices = local.Manifest.Slices.Where(s => !s.Embed && !s.Head).OrderBy(s => s.FirstLayer).ToArray();
        Assert.Equal(3, slices.Length);
        // The middle slice's cache holds fewer positions than the others, so a long step fails there, after slice 1 ran.
        using var state = new ConversationState(
        [
            new KvCache(local.Config, slices[0].FirstLayer, slices[0].EndLayer, 64),
            new KvCache(local.Config, slices[1].FirstLayer, slices[1].EndLayer, 8),
            new KvCache(local.Config, slices[2].FirstLayer, slices[2].EndLayer, 64),
        ]);
        local.Forward(s_prompt, state);
        Assert.Throws<ContextFullException>(() => local.Forward([300, 301, 302, 303], state));
        Assert.All(state.Caches, c => Assert.Equal(s_prompt.Length, c.Length));

        // The conversation goes on exactly as one that never failed.
        var after = local.Forward([300], state).ToArray();
        using var clean = local.CreateState(64);
        local.Forward(s_prompt, clean);
        Assert.Equal(local.Forward([300], clean).ToArray(), after);
    }
}
