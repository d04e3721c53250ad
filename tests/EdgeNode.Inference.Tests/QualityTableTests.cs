using EdgeNode.Inference.Evaluation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;
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

    /// <summary>
    /// EdgeNode's 4-bit kernel against ONNX Runtime's on the same int4 folder, teacher-forced over the held-out story. Both
    /// quantize activations to int8 per block; over a whole prompt at once ONNX Runtime's kernel rounds differently from
    /// its one-row path, so the two part by a few tenths of a percent either way (stories260K: 9.619 against 9.598 with the
    /// default block 64, 9.598 against 9.626 in the stored records' folders). More than 0.5 % worse fails.
    /// </summary>
    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama2xs-tok512-280K")]
    public void TheOwnFourBitKernelIsNoWorseThanOnnxRuntimes(string model)
    {
        Assert.True(models.Runtime.UsesOwnKernels, "the test machine runs EdgeNode's kernels (AVX-VNNI or arm64 dot product)");
        var tokenizer = TestPaths.Model("stories260K", "tok512.bin");
        var folder = models.Folder(model, WeightPrecision.Int4);
        var stockRuntime = new InferenceRuntime(models.Runtime.Options with { OwnKernels = false });
        PerplexityResult Evaluate(InferenceRuntime runtime, string modelFolder)
        {
            using var local = LocalModel.Load(runtime, modelFolder, tokenizer);
            return PerplexityEvaluator.Evaluate(local, HeldOutText);
        }
        var fp32 = Evaluate(models.Runtime, models.Folder(model, WeightPrecision.Fp32));
        var own = Evaluate(models.Runtime, folder);
        var stock = Evaluate(stockRuntime, folder);
        output.WriteLine($"{model} int4: perplexity {own.Perplexity:F4} with EdgeNode's kernel, {stock.Perplexity:F4} with ONNX Runtime's; " +
            $"top-1 agreement with fp32 {own.TopOneAgreement(fp32):P2} and {stock.TopOneAgreement(fp32):P2} of {own.ScoredTokens}");
        Assert.True(own.Perplexity <= stock.Perplexity * 1.005, $"{model}: int4 perplexity {own.Perplexity:F4} with EdgeNode's kernel, {stock.Perplexity:F4} with ONNX Runtime's");
        // A near-tie between the two best logits may flip either way under a different order of sums: two tokens' grace.
        Assert.True(own.TopOneAgreement(fp32) >= stock.TopOneAgreement(fp32) - 2.0 / own.ScoredTokens,
            $"{model}: int4 top-1 agreement with fp32 {own.TopOneAgreement(fp32):P2} with EdgeNode's kernel, {stock.TopOneAgreement(fp32):P2} with ONNX Runtime's");
    }

    public static TheoryData<string> RealWeightEvalRecords => new(
        Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, RecipeMeasurementStore.Folder), "quality-*.json")
            .Where(f => MeasurementRecord.Load(f) is { Kind: MeasurementRecord.EvalKind, Weights: "real weights" })
            .Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    /// <summary>
    /// Every stored quality figure of the shared models (docs/measurements/quality-*.json, from which the recipes'
    /// entries derive) recomputed here: the same checkpoint, text, precision, block size, zero points and calibration,
    /// teacher-forced over the same tokens. Perplexity must agree to 1e-3 relative: the evaluation is deterministic, so
    /// what can move it is only the order of float sums in ONNX Runtime's kernels (~1e-6), while a real change (another
    /// block size, scaling on or off, a quantizer change) moves it by 0.3% or more (awq vs plain int8 on stories260K).
    /// Top-1 agreement may move by two tokens: a near-tie between the two best logits can flip under that same noise.
    /// </summary>
    [Theory]
    [MemberData(nameof(RealWeightEvalRecords))]
    public void StoredQualityFiguresReproduce(string file)
    {
        var record = MeasurementRecord.Load(Path.Combine(TestPaths.RepoRoot, RecipeMeasurementStore.Folder, file));
        var arguments = record.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string Argument(string name) => arguments[Array.IndexOf(arguments, name) + 1];
        // The shared models live beside the checkout; the record names them by their last two path parts.
        string SharedModel(string path) => TestPaths.Model(Path.GetFileName(Path.GetDirectoryName(path))!, Path.GetFileName(path));
        var checkpoint = SharedModel(Argument("--model"));
        var tokenizer = SharedModel(Argument("--tokenizer"));
        var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, Argument("--text")));
        var calibration = record.ActivationAware ? Path.Combine(TestPaths.RepoRoot, Argument("--awq")) : null;
        Assert.Equal(2, record.Report.GetProperty("threads").GetInt32());

        // Records name the 4-bit kernel they were measured with; those from before EdgeNode had its own used ONNX Runtime's.
        var ownKernels = record.Report.TryGetProperty("matmul_kernels", out var kernels) && kernels.GetString()!.StartsWith("edgenode", StringComparison.Ordinal);
        var runtime = ownKernels == models.Runtime.UsesOwnKernels ? models.Runtime : new InferenceRuntime(models.Runtime.Options with { OwnKernels = ownKernels });
        PerplexityResult? fp32 = null;
        foreach (var row in record.Report.GetProperty("rows").EnumerateArray().OrderBy(r => r.GetProperty("precision").GetString() == "fp32" ? 0 : 1))
        {
            var precision = WeightPrecisionNames.Parse(row.GetProperty("precision").GetString()!);
            var block = row.GetProperty("block_size") is { ValueKind: System.Text.Json.JsonValueKind.Number } b ? b.GetInt32() : (int?)null;
            // Rows written before the KV cache's precision was recorded were measured with a float32 cache.
            var kv = row.TryGetProperty("kv_precision", out var kvName) && kvName.ValueKind == System.Text.Json.JsonValueKind.String
                ? KvPrecisionNames.Parse(kvName.GetString()!)
                : KvPrecision.Fp32;
            var options = new ConversionOptions { Precision = precision, BlockSize = block, Asymmetric = record.Asymmetric, CalibrationTextPath = calibration, KvPrecision = kv };
            PerplexityResult result;
            using (var local = LocalModel.Load(runtime, models.Folder(checkpoint, tokenizer, options), tokenizer))
                result = PerplexityEvaluator.Evaluate(local, text);
            var stored = row.GetProperty("perplexity").GetDouble();
            output.WriteLine($"{file} {precision.ToName()}: perplexity {result.Perplexity:F6} stored {stored:F6}");
            Assert.True(Math.Abs(result.Perplexity / stored - 1) <= 1e-3,
                $"{file}: {precision.ToName()} perplexity is {result.Perplexity:F4} now, {stored:F4} stored; measure again (bash ci/quality-table) or find what changed");
            if (precision == WeightPrecision.Fp32)
            {
                fp32 = result;
                continue;
            }
            if (row.GetProperty("top_one_agreement_with_fp32") is { ValueKind: System.Text.Json.JsonValueKind.Number } agreement && fp32 is not null)
            {
                var now = result.TopOneAgreement(fp32);
                output.WriteLine($"{file} {precision.ToName()}: agreement {now:F4} stored {agreement.GetDouble():F4}");
                Assert.True(Math.Abs(now - agreement.GetDouble()) <= 2.0 / result.ScoredTokens,
                    $"{file}: {precision.ToName()} top-1 agreement with fp32 is {now:P2} now, {agreement.GetDouble():P2} stored");
            }
        }
    }
}
