using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Import;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests.Quantization;

/// <summary>GGUF Q4_0 / Q8_0 matrices go into MatMulNBits block for block, with no second rounding.</summary>
public sealed class GgufBlockPassthroughTests(QuantizedConversions conversions, ITestOutputHelper output) : IClassFixture<QuantizedConversions>
{
    public static TheoryData<string, WeightPrecision> Files => new()
    {
        { "stories260K-q4_0.gguf", WeightPrecision.Int4 },
        { "stories260K-q8_0.gguf", WeightPrecision.Int8 },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void Kept_blocks_dequantize_to_the_imported_floats_bit_for_bit(string file, WeightPrecision precision)
    {
        var blocks = new PrequantizedWeights();
        var weights = GgufCheckpoint.Read(TestPaths.Model("stories260K", file), blocks);
        // Every matrix but ffn_down (rows of 172 values, stored F32 because 172 is not a multiple of 32).
        Assert.Equal(weights.Layers.Length * 6 + 1, blocks.Count);

        var quantizer = new BlockQuantizer(precision.Bits(), 32);
        foreach (var (values, n, k) in Matrices(weights))
        {
            var q = blocks.Quantize(quantizer, values, n, k);
            Assert.Equal(precision.Bits(), q.Bits);
            Assert.Null(q.ZeroPoints);
            var back = q.Dequantize();
            for (var i = 0; i < values.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(values[i]), BitConverter.SingleToInt32Bits(back[i]));
        }
    }

    [Fact]
    public void Stacked_projections_take_the_blocks_of_each_part_and_quantize_the_rest()
    {
        var blocks = new PrequantizedWeights();
        var weights = GgufCheckpoint.Read(TestPaths.Model("stories260K", "stories260K-q4_0.gguf"), blocks);
        var layer = weights.Layers[0];
        var quantizer = new BlockQuantizer(4, 32);
        // wq, then rows no file held, then wv: the middle rows are quantized, the outer ones taken as they are.
        var foreign = Enumerable.Range(0, 3 * 64).Select(i => MathF.Sin(i)).ToArray();
        float[] stacked = [.. layer.Wq, .. foreign, .. layer.Wv];
        var n = stacked.Length / 64;
        Assert.Equal(64 + 32, blocks.CoveredRows(quantizer, stacked, n, 64));
        var q = blocks.Quantize(quantizer, stacked, n, 64);
        var expectedMiddle = quantizer.Quantize(foreign, 3, 64).Dequantize();
        var back = q.Dequantize();
        Assert.Equal(layer.Wq, back[..layer.Wq.Length]);
        Assert.Equal(expectedMiddle, back[layer.Wq.Length..(layer.Wq.Length + foreign.Length)]);
        Assert.Equal(layer.Wv, back[(layer.Wq.Length + foreign.Length)..]);
        // At another block size nothing matches.
        Assert.Equal(0, blocks.CoveredRows(new BlockQuantizer(4, 64), stacked, n, 64));
    }

    /// <summary>
    /// Through the graph: the int4/int8 model converted from the GGUF's blocks against the fp32 graph of exactly the
    /// weights those blocks stand for (the GGUF's dequantized floats; ffn_down, which the file stores as F32, replaced by
    /// the builder's own quantization of it), and against quantizing the dequantized floats a second time. ORT's CPU
    /// MatMulNBits is not exact even with float activations (accuracy_level 0; weights already on the grid still move
    /// int4 logits by ~0.07 on average), so the graph-level bar is "never worse than quantizing twice"; the bit-exact
    /// check is the one above, on the bytes the graph holds.
    /// </summary>
    [Theory]
    [InlineData("stories260K-q4_0.gguf", WeightPrecision.Int4, 0)]
    [InlineData("stories260K-q4_0.gguf", WeightPrecision.Int4, 4)]
    [InlineData("stories260K-q8_0.gguf", WeightPrecision.Int8, 0)]
    [InlineData("stories260K-q8_0.gguf", WeightPrecision.Int8, 4)]
    public void Graph_from_kept_blocks_is_never_worse_than_quantizing_twice(string file, WeightPrecision precision, int accuracyLevel)
    {
        var path = TestPaths.Model("stories260K", file);
        var blocks = new PrequantizedWeights();
        var weights = GgufCheckpoint.Read(path, blocks);
        var options = new ConversionOptions { Precision = precision, BlockSize = 32, AccuracyLevel = accuracyLevel };
        using var fromBlocks = conversions.Load(weights, options with { Prequantized = blocks });
        using var requantized = conversions.Load(weights, options);
        using var reference = conversions.Load(WithBuilderQuantizedFfnDown(weights, precision), new ConversionOptions());

        var kept = LogitComparison.Run(reference, fromBlocks, "stories260K");
        var twice = LogitComparison.Run(reference, requantized, "stories260K");
        var between = LogitComparison.Run(requantized, fromBlocks, "stories260K");
        output.WriteLine($"{file} -> {precision.ToName()} accuracy_level {accuracyLevel}, vs fp32 on the same values:");
        output.WriteLine($"  blocks kept:     {kept}");
        output.WriteLine($"  quantized twice: {twice}");
        output.WriteLine($"  kept vs twice:   {between}");
        Assert.True(kept.MeanError <= twice.MeanError, $"kept {kept.MeanError} vs quantized twice {twice.MeanError}");
        if (precision == WeightPrecision.Int4)
        {
            // Q4_0's scale is the block's signed maximum over -8, exactly this quantizer's rule, so at block 32 quantizing
            // the dequantized values again lands on the same codes: the two graphs must hold the same bytes.
            Assert.Equal(0.0, between.MaxError);
        }
    }

    private static IEnumerable<(float[] Values, int N, int K)> Matrices(LlamaWeights weights)
    {
        var c = weights.Config;
        yield return (weights.TokenEmbedding, c.VocabSize, c.Dim);
        foreach (var l in weights.Layers)
        {
            yield return (l.Wq, c.Dim, c.Dim);
            yield return (l.Wk, c.KvDim, c.Dim);
            yield return (l.Wv, c.KvDim, c.Dim);
            yield return (l.Wo, c.Dim, c.Dim);
            yield return (l.W1, c.HiddenDim, c.Dim);
            yield return (l.W3, c.HiddenDim, c.Dim);
        }
    }

    private static LlamaWeights WithBuilderQuantizedFfnDown(LlamaWeights weights, WeightPrecision precision)
    {
        var c = weights.Config;
        var quantizer = new BlockQuantizer(precision.Bits(), 32);
        var layers = weights.Layers.Select(l => new LayerWeights
        {
            RmsAtt = l.RmsAtt, Wq = l.Wq, Wk = l.Wk, Wv = l.Wv, Wo = l.Wo, RmsFfn = l.RmsFfn, W1 = l.W1, W3 = l.W3,
            W2 = quantizer.Quantize(l.W2, c.Dim, c.HiddenDim).Dequantize(),
        }).ToArray();
        return new LlamaWeights { Config = c, TokenEmbedding = weights.TokenEmbedding, Layers = layers, RmsFinal = weights.RmsFinal, Classifier = weights.Classifier };
    }
}
