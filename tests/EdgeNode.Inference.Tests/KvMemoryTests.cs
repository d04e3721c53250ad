using System.Runtime.CompilerServices;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// KV memory on a real model: caches allocate as the conversation fills them (growth copies the filled positions and
/// rebinds, and changes no logit), a disposed cache leaves no binding behind, and a decode step allocates no managed memory.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class KvMemoryTests(ConvertedModels models)
{
    private LocalModel Load(IReadOnlyList<(int, int)>? ranges = null) =>
        LocalModel.Load(models.Runtime, models.Folder("stories260K", WeightPrecision.Fp32, ranges), TestPaths.Model("stories260K", "tok512.bin"));

    [Fact]
    public void AFullContextConversationHoldsOnlyWhatItHasFilled()
    {
        using var local = Load();
        using var state = local.CreateState(local.Config.MaxSeqLen);
        local.Forward([1, 403, 407], state);
        Assert.Equal(local.KvBytesPerPosition * local.Config.MaxSeqLen, state.Bytes);
        Assert.Equal(local.KvBytesPerPosition * KvCache.InitialPositions, state.AllocatedBytes);
        Assert.True(state.AllocatedBytes < state.Bytes);
    }

    [Fact]
    public void GrowingPastTheFirstAllocationChangesNoLogit()
    {
        using var local = Load([(0, 2), (2, 5)]);
        var context = local.Config.MaxSeqLen;
        // The same conversation in caches allocated whole up front, as a reference.
        var layerSlices = local.Manifest.Slices.Where(s => !s.Embed && !s.Head).OrderBy(s => s.FirstLayer).ToArray();
        using var whole = new ConversationState([.. layerSlices.Select(s => new KvCache(local.Config, s.FirstLayer, s.EndLayer, context, context))]);
        using var growing = local.CreateState(context);
        var vocab = local.Config.VocabSize;
        var token = new int[1];
        token[0] = 1;
        var worst = 0f;
        var generations = 0;
        for (var step = 0; step < KvCache.InitialPositions * 2 - 10; step++)
        {
            var a = local.Forward(token, whole).ToArray();
            var b = local.Forward(token, growing);
            for (var i = 0; i < vocab; i++)
                worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            token[0] = TokenSampler.ArgMax(a);
            generations = growing.Caches[0].Generation;
        }
        Assert.Equal(0f, worst);
        Assert.Equal(2, generations);                 // allocated once, grown once (256 → 512)
        Assert.Equal(growing.Bytes, growing.AllocatedBytes);
    }

    [Fact]
    public void ADisposedCacheIsUnboundAndCollectable()
    {
        using var local = Load();
        var weak = RunAndDispose(local);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(weak.IsAlive, "a session still references the disposed cache");
        // The session goes on with another conversation.
        using var next = local.CreateState(64);
        Assert.Equal(local.Config.VocabSize, local.Forward([1, 403], next).Length);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference RunAndDispose(LocalModel local)
    {
        var state = local.CreateState(64);
        local.Forward([1, 403, 407], state);
        var cache = state.Caches[0];
        Assert.Equal(1, cache.BindingCount);
        state.Dispose();
        Assert.Equal(0, cache.BindingCount);
        Assert.Equal(0, cache.AllocatedBytes);
        return new WeakReference(cache);
    }

    [Fact]
    public void DecodeAllocatesNoManagedMemoryPerToken()
    {
        using var local = Load();
        using var state = local.CreateState(local.Config.MaxSeqLen);
        var logits = new float[local.Config.VocabSize];
        var token = new int[] { 1 };
        // Warm-up: first runs bind buffers and let ONNX Runtime set up its arenas.
        for (var i = 0; i < 8; i++)
        {
            local.Forward(token, state).CopyTo(logits);
            token[0] = TokenSampler.ArgMax(logits);
        }
        // Enough steps that one object per step would show, while one-off allocations by the runtime itself (re-compiling
        // the hot loop: a few hundred to a few thousand bytes) do not; few enough that the
        // cache stays within its first allocation (growth is rare and allocates by design).
        const int Steps = KvCache.InitialPositions - 16;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Steps; i++)
        {
            local.Forward(token, state).CopyTo(logits);
            token[0] = TokenSampler.ArgMax(logits);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The smallest managed object is 24 bytes: less than that per step means no step allocates.
        Assert.True(allocated < Steps * 24L, $"{Steps} decode steps allocated {allocated} managed bytes: at least one object per step");
    }
}
