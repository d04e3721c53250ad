using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Reference;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// For every split point k, embed → [0,k) → [k,L) → head gives the unsliced logits bit for bit, at every precision,
/// and so do combined slices (embed+layers, layers+head): where a model is cut must not change what it computes,
/// or a pool and a solo node part ways within a few tokens once quantized activations round a last-bit difference
/// into a different int8. The unsliced ONNX graphs agree with the plain managed reference forward pass.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class SliceEquivalenceTests(ConvertedModels models, ITestOutputHelper output)
{
    private static readonly int[] s_tokens = [1, 403, 407, 261, 378, 432, 383, 286];

    // Measured on x64 with ONNX Runtime's CPU kernels: at most 1.3e-5 on stories260K's logits.
    private const double MaxLogitError = 3e-5;

    [Fact]
    public void TheUnslicedGraphAgreesWithTheReference()
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        using var dir = TestPaths.NewTempDirectory("reference");
        var slices = new SliceSet(models, new LlamaSliceBuilder(weights, WeightPrecision.Fp32), weights.Config, dir.Path);
        using var embed = slices.Open(SliceSpec.EmbedOnly);
        using var head = slices.Open(SliceSpec.HeadOnly(weights.Config.Layers));
        using var whole = slices.Open(SliceSpec.Layers(0, weights.Config.Layers));
        var unsliced = RunChain(embed, [whole], head);

        var reference = new ReferenceTransformer(weights, weights.Config.MaxSeqLen);
        var referenceLogits = s_tokens.Select((t, pos) => reference.Forward(t, pos)).ToArray();
        var referenceError = MaxError(unsliced, referenceLogits);
        output.WriteLine($"ONNX fp32 vs managed reference: max |Δlogit| = {referenceError:E2}");
        Assert.True(referenceError < MaxLogitError, $"ONNX vs reference differ by {referenceError}");
    }

    [Theory]
    [InlineData(WeightPrecision.Fp32)]
    [InlineData(WeightPrecision.Int8)]
    [InlineData(WeightPrecision.Int4)]
    public void EverySplitPointGivesTheUnslicedLogitsBitForBit(WeightPrecision precision)
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var config = weights.Config;
        using var dir = TestPaths.NewTempDirectory("splits");
        var slices = new SliceSet(models, new LlamaSliceBuilder(weights, precision, blockSize: 16), config, dir.Path);
        using var embed = slices.Open(SliceSpec.EmbedOnly);
        using var head = slices.Open(SliceSpec.HeadOnly(config.Layers));
        using var whole = slices.Open(SliceSpec.Layers(0, config.Layers));
        var unsliced = RunChain(embed, [whole], head);

        for (var k = 1; k < config.Layers; k++)
        {
            using var first = slices.Open(SliceSpec.Layers(0, k));
            using var second = slices.Open(SliceSpec.Layers(k, config.Layers));
            var error = MaxError(RunChain(embed, [first, second], head), unsliced);
            output.WriteLine($"{precision.ToName()} split at {k}: max |Δlogit| = {error:E2}");
            Assert.True(error == 0, $"{precision.ToName()}: split at {k} differs from the unsliced model by {error}");
        }
        using var a = slices.Open(SliceSpec.Layers(0, 1));
        using var b = slices.Open(SliceSpec.Layers(1, 3));
        using var c = slices.Open(SliceSpec.Layers(3, config.Layers));
        var threeWay = MaxError(RunChain(embed, [a, b, c], head), unsliced);
        Assert.True(threeWay == 0, $"{precision.ToName()}: [0,1) [1,3) [3,{config.Layers}) differs from the unsliced model by {threeWay}");
    }

    [Theory]
    [InlineData(WeightPrecision.Fp32)]
    [InlineData(WeightPrecision.Int4)]
    public void CombinedSlicesEmbedPlusLayersAndLayersPlusHeadMatchBitForBit(WeightPrecision precision)
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var config = weights.Config;
        using var dir = TestPaths.NewTempDirectory("combined");
        var slices = new SliceSet(models, new LlamaSliceBuilder(weights, precision, blockSize: 16), config, dir.Path);
        using var embed = slices.Open(SliceSpec.EmbedOnly);
        using var head = slices.Open(SliceSpec.HeadOnly(config.Layers));
        using var whole = slices.Open(SliceSpec.Layers(0, config.Layers));
        var unsliced = RunChain(embed, [whole], head, prefill: 0);

        using var frontSession = slices.Open(new SliceSpec(true, 0, 2, false));
        using var backSession = slices.Open(new SliceSpec(false, 2, config.Layers, true));
        using var frontCache = frontSession.CreateCache(64);
        using var backCache = backSession.CreateCache(64);
        var combined = new List<float[]>();
        for (var pos = 0; pos < s_tokens.Length; pos++)
        {
            var hidden = frontSession.RunTokens([s_tokens[pos]], frontCache);
            combined.Add(backSession.RunHidden(hidden, backCache).ToArray());
        }
        var error = MaxError([.. combined], unsliced);
        output.WriteLine($"{precision.ToName()} embed+[0,2) → [2,{config.Layers})+head: max |Δlogit| = {error:E2}");
        Assert.True(error == 0, $"{precision.ToName()}: combined slices differ from the unsliced model by {error}");
    }

    /// <summary>Slices of one model built on demand into one folder.</summary>
    private sealed class SliceSet(ConvertedModels models, LlamaSliceBuilder builder, LlamaConfig config, string folder)
    {
        public SliceSession Open(SliceSpec spec)
        {
            var path = Path.Combine(folder, spec.FileName);
            if (!File.Exists(path))
                builder.Build(spec, path);
            return new SliceSession(models.Runtime, path, spec, config);
        }
    }

    /// <summary>Prefill <paramref name="prefill"/> positions in one run (default: the first half), then the rest one at a time; logits of every position.</summary>
    private static float[][] RunChain(SliceSession embed, SliceSession[] layers, SliceSession head, int prefill = -1)
    {
        var caches = layers.Select(l => l.CreateCache(64)).ToArray();
        try
        {
            var result = new List<float[]>();
            var half = prefill < 0 ? s_tokens.Length / 2 : prefill;
            if (half > 0)
            {
                var hidden = embed.RunTokens(s_tokens.AsSpan(0, half), null).ToArray();
                for (var i = 0; i < layers.Length; i++)
                    hidden = layers[i].RunHidden(hidden, caches[i]).ToArray();
                var logits = head.RunHidden(hidden, null).ToArray();
                var vocab = head.OutputWidth;
                for (var p = 0; p < half; p++)
                    result.Add(logits.AsSpan(p * vocab, vocab).ToArray());
            }
            for (var p = half; p < s_tokens.Length; p++)
            {
                var hidden = embed.RunTokens([s_tokens[p]], null).ToArray();
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
