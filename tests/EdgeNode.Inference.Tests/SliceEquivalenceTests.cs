using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Reference;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// For every split point k, embed → [0,k) → [k,L) → head gives the unsliced logits (within 3e-5), and the
/// ONNX graphs agree with the plain managed reference forward pass.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class SliceEquivalenceTests(ConvertedModels models, ITestOutputHelper output)
{
    private static readonly int[] s_tokens = [1, 403, 407, 261, 378, 432, 383, 286];

    // Measured on x64 with ONNX Runtime's CPU kernels: at most 1.3e-5 on stories260K's logits.
    private const double MaxLogitError = 3e-5;

    [Fact]
    public void EverySplitPointGivesTheUnslicedLogits()
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var config = weights.Config;
        using var dir = TestPaths.NewTempDirectory("splits");
        var builder = new LlamaSliceBuilder(weights, WeightPrecision.Fp32);
        SliceSession Build(SliceSpec spec)
        {
            var path = Path.Combine(dir.Path, spec.FileName);
            if (!File.Exists(path))
                builder.Build(spec, path);
            return new SliceSession(models.Runtime, path, spec, config);
        }

        using var embed = Build(SliceSpec.EmbedOnly);
        using var head = Build(SliceSpec.HeadOnly(config.Layers));
        using var whole = Build(SliceSpec.Layers(0, config.Layers));
        var unsliced = RunChain(embed, [whole], head);

        var reference = new ReferenceTransformer(weights, config.MaxSeqLen);
        var referenceLogits = s_tokens.Select((t, pos) => reference.Forward(t, pos)).ToArray();
        var referenceError = MaxError(unsliced, referenceLogits);
        output.WriteLine($"ONNX fp32 vs managed reference: max |Δlogit| = {referenceError:E2}");
        Assert.True(referenceError < MaxLogitError, $"ONNX vs reference differ by {referenceError}");

        for (var k = 1; k < config.Layers; k++)
        {
            using var first = Build(SliceSpec.Layers(0, k));
            using var second = Build(SliceSpec.Layers(k, config.Layers));
            var sliced = RunChain(embed, [first, second], head);
            var error = MaxError(sliced, unsliced);
            output.WriteLine($"split at {k}: max |Δlogit| = {error:E2}");
            Assert.True(error <= MaxLogitError, $"split at {k} differs by {error}");
        }
    }

    [Fact]
    public void CombinedSlicesEmbedPlusLayersAndLayersPlusHeadMatch()
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var config = weights.Config;
        using var dir = TestPaths.NewTempDirectory("combined");
        var builder = new LlamaSliceBuilder(weights, WeightPrecision.Fp32);
        var front = new SliceSpec(true, 0, 2, false);
        var back = new SliceSpec(false, 2, config.Layers, true);
        builder.Build(front, Path.Combine(dir.Path, front.FileName));
        builder.Build(back, Path.Combine(dir.Path, back.FileName));
        using var frontSession = new SliceSession(models.Runtime, Path.Combine(dir.Path, front.FileName), front, config);
        using var backSession = new SliceSession(models.Runtime, Path.Combine(dir.Path, back.FileName), back, config);
        using var frontCache = frontSession.CreateCache(64);
        using var backCache = backSession.CreateCache(64);

        var reference = new ReferenceTransformer(weights, config.MaxSeqLen);
        for (var pos = 0; pos < s_tokens.Length; pos++)
        {
            var hidden = frontSession.RunTokens([s_tokens[pos]], frontCache);
            var logits = backSession.RunHidden(hidden, backCache).ToArray();
            var expected = reference.Forward(s_tokens[pos], pos);
            var error = MaxError([logits], [expected]);
            Assert.True(error < MaxLogitError, $"position {pos} differs by {error}");
        }
    }

    /// <summary>Prefill the first half in one run, then the rest one position at a time; logits of every position.</summary>
    private static float[][] RunChain(SliceSession embed, SliceSession[] layers, SliceSession head)
    {
        var caches = layers.Select(l => l.CreateCache(64)).ToArray();
        try
        {
            var result = new List<float[]>();
            var half = s_tokens.Length / 2;
            var hidden = embed.RunTokens(s_tokens.AsSpan(0, half), null).ToArray();
            for (var i = 0; i < layers.Length; i++)
                hidden = layers[i].RunHidden(hidden, caches[i]).ToArray();
            var logits = head.RunHidden(hidden, null).ToArray();
            var vocab = head.OutputWidth;
            for (var p = 0; p < half; p++)
                result.Add(logits.AsSpan(p * vocab, vocab).ToArray());
            for (var p = half; p < s_tokens.Length; p++)
            {
                hidden = embed.RunTokens([s_tokens[p]], null).ToArray();
                for (var i = 0; i < layers.Length; i++)
                    hidden = layers[i].RunHidden(hidden, caches[i]).ToArray();
                result.Add(head.RunHidden(hidden, null).ToArray());
            }
            return [.. result];
        }
        finally
        {
            foreach (var c in caches) c.Dispose();
        }
    }

    internal static double MaxError(float[][] a, float[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (var i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].Length, b[i].Length);
            for (var j = 0; j < a[i].Length; j++)
                max = Math.Max(max, Math.Abs(a[i][j] - b[i][j]));
        }
        return max;
    }
}
