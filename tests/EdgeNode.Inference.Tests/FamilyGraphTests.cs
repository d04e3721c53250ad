using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Reference;
using EdgeNode.Models.Synthetic;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// The ONNX graphs of other families' features against the managed reference: Qwen2-style q/k/v biases, Qwen3-style
/// per-head q/k norms with heads wider or narrower than dim / heads, a rope base other than 10000 and Llama-3 rope
/// scaling, with head sizes that need no padding (32, 16) and ones that do (8, 24): the norm must see only a head's
/// real dimensions.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class FamilyGraphTests(ConvertedModels models, ITestOutputHelper output)
{
    private static readonly int[] s_tokens = [1, 17, 250, 3, 99, 42, 7, 180];

    [Theory]
    [InlineData(64, 2, 1, 32, false)]
    [InlineData(64, 8, 2, 8, false)]
    [InlineData(64, 8, 2, 8, true)]
    [InlineData(64, 4, 2, 24, true)]
    [InlineData(64, 8, 4, 16, true)]
    public void BiasesHeadNormsRopeBaseAndScalingMatchTheReference(int dim, int heads, int kvHeads, int headSize, bool headNorms)
    {
        var config = new LlamaConfig(dim, 128, 2, heads, kvHeads, 300, 64)
        {
            HeadSize = headSize,
            RopeTheta = 1_000_000f,
            NormEps = 1e-6f,
            RopeScaling = new RopeScaling(8f, 1f, 4f, 16),
        };
        var random = new Random(5);
        var generated = SyntheticCheckpoints.Generate(config, seed: 11);
        var weights = new LlamaWeights
        {
            Config = config,
            TokenEmbedding = generated.TokenEmbedding,
            RmsFinal = generated.RmsFinal,
            Classifier = generated.Classifier,
            Layers = generated.Layers.Select(l => new LayerWeights
            {
                RmsAtt = l.RmsAtt, Wq = l.Wq, Wk = l.Wk, Wv = l.Wv, Wo = l.Wo, RmsFfn = l.RmsFfn, W1 = l.W1, W2 = l.W2, W3 = l.W3,
                Bq = Noise(random, config.QDim), Bk = Noise(random, config.KvDim), Bv = Noise(random, config.KvDim),
                QNorm = headNorms ? Noise(random, headSize).Select(n => 1 + n).ToArray() : null,
                KNorm = headNorms ? Noise(random, headSize).Select(n => 1 + n).ToArray() : null,
            }).ToArray(),
        };

        using var dir = TestPaths.NewTempDirectory("family");
        var spec = new SliceSpec(true, 0, config.Layers, true);
        var path = Path.Combine(dir.Path, spec.FileName);
        new LlamaSliceBuilder(weights, WeightPrecision.Fp32).Build(spec, path);
        using var session = new SliceSession(models.Runtime, path, spec, config);
        using var cache = session.CreateCache(config.MaxSeqLen);

        var reference = new ReferenceTransformer(weights, config.MaxSeqLen);
        double worst = 0;
        for (var pos = 0; pos < s_tokens.Length; pos++)
        {
            var ours = session.RunTokens([s_tokens[pos]], cache).ToArray();
            var expected = reference.Forward(s_tokens[pos], pos);
            for (var i = 0; i < expected.Length; i++)
                worst = Math.Max(worst, Math.Abs(ours[i] - expected[i]));
        }
        output.WriteLine($"dim {dim}, heads {heads}/{kvHeads} (head size {config.HeadSize}, q/k norms {headNorms}): max |Δlogit| {worst:E2}");
        Assert.True(worst < 3e-5, $"max |Δlogit| {worst}");   // measured at most 1.1e-5 over these shapes
    }

    private static float[] Noise(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
}
