using EdgeNode.Inference.Evaluation;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// Perplexity of the shared models at fp32, int8 and int4 on a held-out story written for this test (not
/// from the models' training data), through the ONNX slices: the quality column of the recipes table.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class QualityTableTests(ConvertedModels models, ITestOutputHelper output)
{
    private static string HeldOutText => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "heldout-story.txt"));

    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama2xs-tok512-280K")]
    public void QuantizedPerplexityStaysCloseToFp32(string model)
    {
        var tokenizer = TestPaths.Model("stories260K", "tok512.bin");
        var results = new Dictionary<WeightPrecision, PerplexityResult>();
        foreach (var precision in new[] { WeightPrecision.Fp32, WeightPrecision.Int8, WeightPrecision.Int4 })
        {
            var folder = models.Folder(model, precision);
            using var local = LocalModel.Load(models.Runtime, folder, tokenizer);
            results[precision] = PerplexityEvaluator.Evaluate(local, HeldOutText);
            var bytes = Directory.GetFiles(folder).Where(f => f.EndsWith(".data", StringComparison.Ordinal) || f.EndsWith(".onnx", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
            output.WriteLine($"| {model} | {precision.ToName()} | {results[precision].Perplexity:F3} | {results[precision].ScoredTokens} | {bytes / 1024.0:F0} KiB |");
        }
        var fp32 = results[WeightPrecision.Fp32].Perplexity;
        // A TinyStories model on a TinyStories-like story: far better than chance (vocabulary 512).
        Assert.InRange(fp32, 1.5, 30);
        Assert.True(results[WeightPrecision.Int8].Perplexity <= fp32 * 1.05, "int8 perplexity more than 5% above fp32");
        Assert.True(results[WeightPrecision.Int4].Perplexity <= fp32 * 1.5, "int4 perplexity more than 50% above fp32");
    }
}
