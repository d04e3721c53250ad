using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests.Quantization;

public sealed class AsymmetricQuantizationTests(QuantizedConversions conversions, ITestOutputHelper output) : IClassFixture<QuantizedConversions>
{
    [Theory]
    [InlineData("stories260K", 32)]
    [InlineData("stories260K", 64)]
    [InlineData("llama2xs-tok512-280K", 64)]
    public void Asymmetric_int4_logits_stay_as_close_to_fp32_as_symmetric(string model, int blockSize)
    {
        var weights = Llama2cCheckpoint.Read(GoldenCase.Load(model)[0].CheckpointPath);
        using var fp32 = conversions.Load(weights, new ConversionOptions());
        var int4 = new ConversionOptions { Precision = WeightPrecision.Int4, BlockSize = blockSize };
        using var symmetric = conversions.Load(weights, int4);
        using var asymmetric = conversions.Load(weights, int4 with { Asymmetric = true });

        var symmetricError = LogitComparison.Run(fp32, symmetric, model);
        var asymmetricError = LogitComparison.Run(fp32, asymmetric, model);
        output.WriteLine($"{model} int4 block {blockSize} symmetric:  {symmetricError}");
        output.WriteLine($"{model} int4 block {blockSize} asymmetric: {asymmetricError}");
        Assert.True(asymmetricError.MeanError <= symmetricError.MeanError * 1.1,
            $"asymmetric mean |Δlogit| {asymmetricError.MeanError:F5} vs symmetric {symmetricError.MeanError:F5}");
    }

    [Fact]
    public void Asymmetric_int8_logits_stay_close_to_fp32()
    {
        var weights = Llama2cCheckpoint.Read(GoldenCase.Load("stories260K")[0].CheckpointPath);
        using var fp32 = conversions.Load(weights, new ConversionOptions());
        using var asymmetric = conversions.Load(weights, new ConversionOptions { Precision = WeightPrecision.Int8, Asymmetric = true });
        var error = LogitComparison.Run(fp32, asymmetric, "stories260K");
        output.WriteLine($"stories260K int8 asymmetric: {error}");
        Assert.True(error.Agreement >= 0.95, error.ToString());
    }
}
