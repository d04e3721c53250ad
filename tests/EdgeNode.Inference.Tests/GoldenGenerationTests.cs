using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>fp32 greedy generation through the ONNX slices reproduces the upstream reference's tokens exactly.</summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class GoldenGenerationTests(ConvertedModels models)
{
    public static TheoryData<string> ModelNames => new() { "stories260K", "llama2xs-tok512-280K" };

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Fp32GreedyMatchesEveryGoldenCase(string model)
    {
        var (_, _, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == model);
        using var local = LocalModel.Load(models.Runtime, models.Folder(model, WeightPrecision.Fp32), tokenizer);
        var generator = new TextGenerator(local);
        foreach (var golden in GoldenCase.Load(model))
        {
            var result = generator.Generate(golden.Prompt, new GenerationOptions { MaxTokens = golden.MaxTokens, Sampling = SamplingOptions.Greedy });
            Assert.Equal(golden.PromptTokens, result.PromptTokens);
            Assert.Equal(golden.Tokens, result.Tokens);
            // The reference prints byte-fallback pieces of its prompt as nothing (it skips unprintable
            // bytes), so the golden text of a non-ASCII prompt only matches after the prompt.
            if (golden.Prompt.All(char.IsAscii))
                Assert.Equal(golden.Text, golden.Prompt + result.Text);
            else
                Assert.EndsWith(result.Text, golden.Text, StringComparison.Ordinal);
        }
    }
}
