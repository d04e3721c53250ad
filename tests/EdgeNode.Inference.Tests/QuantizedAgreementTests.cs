using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// int8 and int4 (MatMulNBits) against fp32 on the golden prompts: top-1 agreement when both read the same
/// tokens (teacher forcing on the golden continuation), free-running greedy agreement, and logit error.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class QuantizedAgreementTests(ConvertedModels models, ITestOutputHelper output)
{
    public static TheoryData<string, WeightPrecision, double> Cases => new()
    {
        // Minimum teacher-forced top-1 agreement accepted for each precision.
        { "stories260K", WeightPrecision.Int8, 0.95 },
        { "stories260K", WeightPrecision.Int4, 0.65 },
        { "llama2xs-tok512-280K", WeightPrecision.Int8, 0.95 },
        { "llama2xs-tok512-280K", WeightPrecision.Int4, 0.65 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AgreesWithFp32OnTheGoldenPrompts(string model, WeightPrecision precision, double minimumAgreement)
    {
        var tokenizer = TestPaths.Model("stories260K", "tok512.bin");
        using var fp32 = LocalModel.Load(models.Runtime, models.Folder(model, WeightPrecision.Fp32), tokenizer);
        using var quantized = LocalModel.Load(models.Runtime, models.Folder(model, precision), tokenizer);
        var vocab = fp32.Config.VocabSize;

        long positions = 0, agreeing = 0;
        double errorSum = 0, errorMax = 0;
        int freeRunAgreeing = 0, freeRunTotal = 0;
        var generator = new TextGenerator(quantized);
        foreach (var golden in GoldenCase.Load(model))
        {
            int[] sequence = [.. golden.PromptTokens, .. golden.Tokens];
            using var a = fp32.CreateState(sequence.Length);
            using var b = quantized.CreateState(sequence.Length);
            var reference = fp32.Forward(sequence, a, allPositions: true).ToArray();
            var candidate = quantized.Forward(sequence, b, allPositions: true).ToArray();
            for (var p = 0; p < sequence.Length; p++)
            {
                var r = reference.AsSpan(p * vocab, vocab);
                var c = candidate.AsSpan(p * vocab, vocab);
                if (TokenSampler.ArgMax(r) == TokenSampler.ArgMax(c))
                    agreeing++;
                positions++;
                for (var i = 0; i < vocab; i++)
                {
                    var e = Math.Abs(r[i] - c[i]);
                    errorSum += e;
                    errorMax = Math.Max(errorMax, e);
                }
            }

            var free = generator.Generate(golden.PromptTokens, new GenerationOptions { MaxTokens = golden.MaxTokens, Sampling = SamplingOptions.Greedy });
            var prefix = 0;
            while (prefix < Math.Min(free.Tokens.Length, golden.Tokens.Length) && free.Tokens[prefix] == golden.Tokens[prefix])
                prefix++;
            freeRunAgreeing += prefix;
            freeRunTotal += golden.Tokens.Length;
        }
        var agreement = (double)agreeing / positions;
        var meanError = errorSum / (positions * vocab);
        output.WriteLine($"{model} {precision.ToName()}: teacher-forced top-1 agreement {agreement:P1} over {positions} positions; " +
            $"free-running greedy matches the fp32 golden for {freeRunAgreeing}/{freeRunTotal} tokens before diverging; " +
            $"|Δlogit| mean {meanError:F4}, max {errorMax:F3}");
        Assert.True(agreement >= minimumAgreement, $"agreement {agreement:P1} < {minimumAgreement:P0}");
    }
}
