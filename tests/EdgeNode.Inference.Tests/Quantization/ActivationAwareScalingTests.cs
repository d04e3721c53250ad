using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Tokenizers;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests.Quantization;

public sealed class ActivationAwareScalingTests(QuantizedConversions conversions, ITestOutputHelper output) : IClassFixture<QuantizedConversions>
{
    // Calibration text in the models' domain, apart from the golden prompts the error is measured on.
    private static readonly string[] CalibrationText =
    [
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her red ball.",
        "One day, a big dog came to the park. The dog was very happy and wanted to play too. Lily was scared at first.",
        "Tom had a small boat. He liked to sail it on the pond near his house. His mom said, \"Be careful, Tom!\"",
        "The sun was shining and the birds were singing. Ben and his friend went to the store to buy some candy.",
        "The little cat was sad because it could not find its toy. Then it looked under the bed and found it. It was so happy.",
    ];

    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama2xs-tok512-280K")]
    public void Folding_the_scales_leaves_the_fp32_model_unchanged(string model)
    {
        var weights = Llama2cCheckpoint.Read(GoldenCase.Load(model)[0].CheckpointPath);
        var scaled = ActivationAwareScaling.Apply(weights, Calibrate(weights));
        using var plain = conversions.Load(weights, new ConversionOptions());
        using var folded = conversions.Load(scaled, new ConversionOptions());
        var error = LogitComparison.Run(plain, folded, model);
        output.WriteLine($"{model} fp32 scaled vs plain: {error}");
        Assert.True(error.MaxError < 3e-4, error.ToString());   // measured 1.1e-4 (llama2xs), 3.7e-5 (stories260K)
    }

    [Theory]
    [InlineData("stories260K", 32)]
    [InlineData("stories260K", 64)]
    [InlineData("llama2xs-tok512-280K", 32)]
    [InlineData("llama2xs-tok512-280K", 64)]
    public void Int4_with_activation_aware_scales_against_fp32(string model, int blockSize)
    {
        var weights = Llama2cCheckpoint.Read(GoldenCase.Load(model)[0].CheckpointPath);
        var activations = Calibrate(weights);
        var scaled = ActivationAwareScaling.Apply(weights, activations);
        using var fp32 = conversions.Load(weights, new ConversionOptions());
        var int4 = new ConversionOptions { Precision = WeightPrecision.Int4, BlockSize = blockSize };
        using var plain = conversions.Load(weights, int4);
        using var aware = conversions.Load(scaled, int4);
        using var awareAsymmetric = conversions.Load(scaled, int4 with { Asymmetric = true });
        var without = LogitComparison.Run(fp32, plain, model);
        var with = LogitComparison.Run(fp32, aware, model);
        var withAsymmetric = LogitComparison.Run(fp32, awareAsymmetric, model);
        output.WriteLine($"{model} int4 block {blockSize}, {activations.Positions} calibration positions:");
        output.WriteLine($"  without scaling:           {without}");
        output.WriteLine($"  with scaling:              {with}");
        output.WriteLine($"  with scaling, asymmetric:  {withAsymmetric}");
        // Measured: lower mean |Δlogit| on both models at blocks 32 and 64 (by 2-8%); the slack only absorbs kernel noise.
        Assert.True(with.MeanError <= without.MeanError * 1.02, $"with {with} / without {without}");
    }

    private static ChannelActivations Calibrate(LlamaWeights weights)
    {
        var tokenizer = Llama2cTokenizer.Load(QuantizedConversions.Tokenizer, weights.Config.VocabSize);
        return ChannelActivations.Collect(weights, CalibrationText.Select(text => tokenizer.Encode(text)));
    }
}
