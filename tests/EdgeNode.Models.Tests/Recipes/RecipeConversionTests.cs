using System.Security.Cryptography;
using System.Text.Json;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Recipes;

/// <summary>Converting the real stories260K with a recipe's variant, its pool plan and a calibration text.</summary>
public sealed class RecipeConversionTests : IDisposable
{
    private static readonly string s_checkpoint = TestPaths.Model("stories260K", "stories260K.bin");
    private static readonly string s_tokenizer = TestPaths.Model("stories260K", "tok512.bin");

    private readonly TempDirectory _dir = TestPaths.NewTempDirectory("recipe-convert");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_manifest_records_the_variant_the_plan_and_the_calibration()
    {
        var recipe = RecipeCatalog.Find("stories260K");
        var variant = recipe.Variant("int4");
        var plan = variant.Plan(3);
        var calibration = Path.Combine(_dir.Path, "calibration.txt");
        File.WriteAllText(calibration, "Once upon a time, there was a little dog named Max.\n\nMax liked to run in the park with his friend Sue. They played all day.");
        var lines = new List<string>();

        var manifest = ModelConverter.Convert(s_checkpoint, s_tokenizer, Path.Combine(_dir.Path, "out"), new ConversionOptions
        {
            Precision = variant.WeightPrecision, BlockSize = variant.BlockSize, Asymmetric = variant.Asymmetric,
            LayerRanges = plan.Slices.Select(s => (s.FirstLayer, s.EndLayer)).ToList(),
            CalibrationTextPath = calibration, RecipeName = recipe.Name, RecipeVariant = variant.Name,
        }, new LineRecorder(lines.Add));

        var q = manifest.Quantization!;
        Assert.Equal(("int4", 64, 4, false, "stories260K", "int4"), (q.Precision, q.BlockSize, q.AccuracyLevel, q.Asymmetric, q.Recipe, q.Variant));
        Assert.NotNull(q.ActivationAware);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(calibration))), q.ActivationAware.CalibrationSha256);
        Assert.InRange(q.ActivationAware.Tokens, 20, 100);
        Assert.Contains(lines, l => l.StartsWith("calibration ", StringComparison.Ordinal));
        Assert.Equal(plan.Slices.Select(s => $"layers_{s.FirstLayer}_{s.EndLayer}.onnx"),
            manifest.Slices.Where(s => s.EndLayer > s.FirstLayer).Select(s => s.File));

        // It survives a save and load.
        var loaded = ModelManifest.Load(Path.Combine(_dir.Path, "out"));
        Assert.Equal(q.ActivationAware.CalibrationSha256, loaded.Quantization!.ActivationAware!.CalibrationSha256);
        // An int4 variant keeps its KV cache in float16 unless told otherwise.
        Assert.Equal(KvPrecision.Fp16, loaded.KvPrecision);
    }

    [Fact]
    public void Without_calibration_the_manifest_says_no_scaling_was_applied()
    {
        var manifest = ModelConverter.Convert(s_checkpoint, s_tokenizer, Path.Combine(_dir.Path, "out"),
            new ConversionOptions { Precision = WeightPrecision.Int8, Asymmetric = true });

        var q = manifest.Quantization!;
        Assert.Equal(("int8", 128, true), (q.Precision, q.BlockSize, q.Asymmetric));
        Assert.Null(q.ActivationAware);
        Assert.Null(q.Recipe);
    }

    [Fact]
    public void A_missing_calibration_text_is_named()
    {
        var missing = Path.Combine(_dir.Path, "nope.txt");
        var error = Assert.Throws<FileNotFoundException>(() => ModelConverter.Convert(s_checkpoint, s_tokenizer, Path.Combine(_dir.Path, "out"),
            new ConversionOptions { Precision = WeightPrecision.Int4, CalibrationTextPath = missing }));
        Assert.StartsWith($"calibration text {missing} not found", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void An_empty_calibration_text_is_named()
    {
        var empty = Path.Combine(_dir.Path, "empty.txt");
        File.WriteAllText(empty, "  \n\n ");
        var error = Assert.Throws<ArgumentException>(() => ModelConverter.Convert(s_checkpoint, s_tokenizer, Path.Combine(_dir.Path, "out"),
            new ConversionOptions { Precision = WeightPrecision.Int4, CalibrationTextPath = empty }));
        Assert.Equal($"calibration text {empty} is empty; activation-aware scaling needs text to measure activations on", error.Message);
    }

    [Fact]
    public void A_checkpoint_of_another_shape_is_refused_by_the_recipe()
    {
        var config = Llama2cCheckpoint.Read(s_checkpoint).Config;
        var error = Assert.Throws<ModelFormatException>(() => RecipeCatalog.Find("tinyllama-1.1b").CheckCheckpoint(config));
        Assert.StartsWith("the checkpoint has dim 64, recipe tinyllama-1.1b expects 2048", error.Message, StringComparison.Ordinal);
        RecipeCatalog.Find("stories260K").CheckCheckpoint(config);
    }

    [Fact]
    public void A_recipe_conversion_records_the_recipe_chat_format_unless_another_is_chosen()
    {
        var folder = Path.Combine(TestPaths.RepoRoot, "agent", "EdgeNode.Models", "Recipes", "Families");
        foreach (var file in Directory.GetFiles(folder, "*.json"))
        {
            using var json = JsonDocument.Parse(File.ReadAllBytes(file));
            var written = json.RootElement.GetProperty("chat_template");
            var expected = written.ValueKind == JsonValueKind.Null ? null : written.GetString();
            var recipe = RecipeCatalog.Find(json.RootElement.GetProperty("name").GetString()!);
            var variant = recipe.Variants[^1];
            var plan = variant.Plan(2);

            var options = RecipeConversion.Apply(recipe, variant, plan, new ConversionOptions());
            Assert.Equal(expected, options.ChatTemplate);
            Assert.Equal((variant.WeightPrecision, recipe.Name, variant.Name), (options.Precision, options.RecipeName, options.RecipeVariant));
            Assert.Equal(plan.Slices.Select(s => (s.FirstLayer, s.EndLayer)), options.LayerRanges!);

            var chosen = RecipeConversion.Apply(recipe, variant, plan, new ConversionOptions { ChatTemplate = "chatml" });
            Assert.Equal("chatml", chosen.ChatTemplate);
        }
    }

    [Fact]
    public void The_chosen_chat_format_is_recorded_in_the_manifest()
    {
        var recipe = RecipeCatalog.Find("stories260K");
        var variant = recipe.Variant("int8");
        var options = RecipeConversion.Apply(recipe, variant, variant.Plan(1), new ConversionOptions { ChatTemplate = "zephyr" });
        var manifest = ModelConverter.Convert(s_checkpoint, s_tokenizer, Path.Combine(_dir.Path, "out"), options);
        Assert.Equal("zephyr", manifest.ChatTemplate);
        Assert.Equal("zephyr", ModelManifest.Load(Path.Combine(_dir.Path, "out")).ChatTemplate);
        Assert.Equal(("stories260K", "int8"), (manifest.Quantization!.Recipe, manifest.Quantization.Variant));
    }

    /// <summary>Records on the caller's thread (Progress&lt;T&gt; would post to the thread pool and race the assertions).</summary>
    private sealed class LineRecorder(Action<string> record) : IProgress<string>
    {
        public void Report(string value) => record(value);
    }
}
