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
        using var set = new SliceSet(models, WeightPrecision.Fp32, "reference");
        var unsliced = set.Unsliced();
        var weights = set.Weights;

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
        using var set = new SliceSet(models, precision, "splits");
        var config = set.Config;
        var unsliced = set.Unsliced();

        for (var k = 1; k < config.Layers; k++)
        {
            using var first = set.Open(SliceSpec.Layers(0, k));
            using var second = set.Open(SliceSpec.Layers(k, config.Layers));
            var error = MaxError(set.Run([first, second]), unsliced);
            output.WriteLine($"{precision.ToName()} split at {k}: max |Δlogit| = {error:E2}");
            Assert.True(error == 0, $"{precision.ToName()}: split at {k} differs from the unsliced model by {error}");
        }
        using var a = set.Open(SliceSpec.Layers(0, 1));
        using var b = set.Open(SliceSpec.Layers(1, 3));
        using var c = set.Open(SliceSpec.Layers(3, config.Layers));
        var threeWay = MaxError(set.Run([a, b, c]), unsliced);
        Assert.True(threeWay == 0, $"{precision.ToName()}: [0,1) [1,3) [3,{config.Layers}) differs from the unsliced model by {threeWay}");
    }

    [Theory]
    [InlineData(WeightPrecision.Fp32)]
    [InlineData(WeightPrecision.Int4)]
    public void CombinedSlicesEmbedPlusLayersAndLayersPlusHeadMatchBitForBit(WeightPrecision precision)
    {
        using var set = new SliceSet(models, precision, "combined");
        var config = set.Config;
        var unsliced = set.Unsliced(prefill: 0);

        using var frontSession = set.Open(new SliceSpec(true, 0, 2, false));
        using var backSession = set.Open(new SliceSpec(false, 2, config.Layers, true));
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

    /// <summary>stories260K's slices at one precision, built on demand into one folder, with its embedding and head open.</summary>
    private sealed class SliceSet : IDisposable
    {
        private readonly ConvertedModels _models;
        private readonly LlamaSliceBuilder _builder;
        private readonly TempDirectory _dir;

        public SliceSet(ConvertedModels models, WeightPrecision precision, string name)
        {
            _models = models;
            Weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
            _builder = new LlamaSliceBuilder(Weights, precision, blockSize: 16);
            _dir = TestPaths.NewTempDirectory(name);
            Embed = Open(SliceSpec.EmbedOnly);
            Head = Open(SliceSpec.HeadOnly(Config.Layers));
        }

        public LlamaWeights Weights { get; }
        public LlamaConfig Config => Weights.Config;
        public SliceSession Embed { get; }
        public SliceSession Head { get; }

        public SliceSession Open(SliceSpec spec)
        {
            var path = Path.Combine(_dir.Path, spec.FileName);
            if (!File.Exists(path))
                _builder.Build(spec, path);
            return new SliceSession(_models.Runtime, path, spec, Config);
        }

        /// <summary>embed → <paramref name="layers"/> → head over the test tokens (see <see cref="RunChain"/>).</summary>
        public float[][] Run(SliceSession[] layers, int prefill = -1) => RunChain(Embed, layers, Head, prefill);

        /// <summary>The logits of the model uncut: all layers in one slice.</summary>
        public float[][] Unsliced(int prefill = -1)
        {
            using var whole = Open(SliceSpec.Layers(0, Config.Layers));
            return Run([whole], prefill);
        }

        public void Dispose()
        {
            Embed.Dispose();
            Head.Dispose();
            _dir.Dispose();
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
