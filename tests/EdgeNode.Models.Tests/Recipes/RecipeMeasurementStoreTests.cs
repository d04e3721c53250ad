using System.Text.Json;
using EdgeNode.Models.Recipes;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Recipes;

/// <summary>
/// The recipes' `measured` lists against the run records under docs/measurements/: every entry comes from the run of
/// exactly the variant it names, and every stored figure equals the one its record gives.
/// </summary>
public sealed class RecipeMeasurementStoreTests
{
    private static readonly string s_measurements = Path.Combine(TestPaths.RepoRoot, "docs", "measurements");

    public static TheoryData<string> RecipeNames => new(RecipeCatalog.Names);

    public static TheoryData<string> RecordFiles =>
        new(Directory.GetFiles(s_measurements, "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    // stories260K's int4 variant is block 64, symmetric, activation-aware; its int8 variant block 128, plain.
    [Fact]
    public void Each_variant_takes_the_row_of_the_run_converted_exactly_as_it_says()
    {
        var recipe = RecipeCatalog.Find("stories260K");
        var int4 = recipe.Variant("int4");
        Assert.True(int4.ActivationAware && !int4.Asymmetric && int4.BlockSize == 64, "the test assumes stories260K's int4 variant is activation-aware, symmetric, block 64");
        var sources = new[]
        {
            Eval("plain", asymmetric: false, activationAware: false, fp32: 8.0, int8: 8.1, int4: 9.6),
            Eval("asymmetric", asymmetric: true, activationAware: false, fp32: 8.0, int8: 8.2, int4: 9.4),
            Eval("awq", asymmetric: false, activationAware: true, fp32: 8.0001, int8: 8.3, int4: 9.2),
        };
        var measured = RecipeMeasurementStore.Derive(recipe, sources);

        Assert.Equal(["int8", "int4", "fp32"], measured.Select(m => m.Variant));
        var byVariant = measured.ToDictionary(m => m.Variant);
        // The activation-aware variant shows the activation-aware run, never the plain run's int4 row.
        Assert.Equal(9.2, byVariant["int4"].Perplexity);
        Assert.Equal("docs/measurements/quality-awq.json", byVariant["int4"].Source);
        Assert.Equal(8.1, byVariant["int8"].Perplexity);
        Assert.Equal("docs/measurements/quality-plain.json", byVariant["int8"].Source);
        // fp32 takes no scaling or zero points: only the plain run's fp32 row is the fp32 variant.
        Assert.Equal(8.0, byVariant["fp32"].Perplexity);
        Assert.Equal("docs/measurements/quality-plain.json", byVariant["fp32"].Source);
        Assert.All(measured, m => Assert.Equal("AMD EPYC (2 cores), 2 threads", m.Device));
    }

    [Fact]
    public void A_variant_without_a_run_of_its_conversion_has_no_entry()
    {
        var recipe = RecipeCatalog.Find("stories260K");
        // Only the plain run: its int4 row is block 64 without activation-aware scaling, not the int4 variant.
        var measured = RecipeMeasurementStore.Derive(recipe, [Eval("plain", false, false, 8.0, 8.1, 9.6)]);
        Assert.DoesNotContain(measured, m => m.Variant == "int4");
        Assert.Equal(["int8", "fp32"], measured.Select(m => m.Variant));
    }

    [Fact]
    public void A_speed_run_on_random_weights_stands_for_the_activation_aware_variant_and_says_so()
    {
        var recipe = RecipeCatalog.Find("tinyllama-1.1b");
        var int4 = recipe.Variant("int4");
        var bench = Bench("tinyllama-1.1b", "int4", int4.BlockSize, int4.Asymmetric, decode: 19.54, rssMb: 847.0);
        var wrongBlock = Bench("tinyllama-1.1b", "int4", 32, int4.Asymmetric, decode: 26.7, rssMb: 800.0, file: "recipe-block32.json");
        var measured = RecipeMeasurementStore.Derive(recipe, [bench, wrongBlock]);
        var entry = Assert.Single(measured);
        Assert.Equal("int4", entry.Variant);
        Assert.Equal(19.5, entry.DecodeTokensPerSecond);
        Assert.Equal((long)(847.0 * 1048576), entry.PeakRssBytes);
        Assert.Contains("activation-aware scaling not applied", entry.Weights, StringComparison.Ordinal);
        Assert.Null(entry.Perplexity);
    }

    [Fact]
    public void The_latest_run_per_variant_and_device_wins_and_a_tie_is_an_error()
    {
        var recipe = RecipeCatalog.Find("stories260K");
        var older = Eval("plain", false, false, 8.0, 8.1, 9.6, date: "2026-01-01", file: "quality-old.json");
        var newer = Eval("plain", false, false, 8.5, 8.6, 9.9, date: "2026-02-01", file: "quality-new.json");
        var measured = RecipeMeasurementStore.Derive(recipe, [older, newer]);
        Assert.All(measured, m => Assert.Equal("docs/measurements/quality-new.json", m.Source));

        var twin = Eval("plain", false, false, 8.4, 8.6, 9.9, date: "2026-02-01", file: "quality-twin.json");
        var e = Assert.Throws<ModelFormatException>(() => RecipeMeasurementStore.Derive(recipe, [newer, twin]));
        Assert.Contains("quality-new.json and docs/measurements/quality-twin.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_on_another_build_names_it_in_the_device()
    {
        var machine = new MeasurementMachine { Cpu = "AMD EPYC 7B13 64-Core Processor", Cores = 2, Build = "JIT (dotnet build -c Release)" };
        Assert.Equal("AMD EPYC 7B13 (2 cores), 2 threads, JIT (dotnet build -c Release)", RecipeMeasurementStore.Device(machine, 2));
        Assert.Equal("AMD EPYC (2 cores), 1 threads", RecipeMeasurementStore.Device(new MeasurementMachine { Cpu = "AMD EPYC", Cores = 2, Build = RecipeMeasurementStore.NativeAotBuild }, 1));
    }

    /// <summary>The stored lists are what the records give now: a hand-edited figure, or one left over from a run that is gone, fails.</summary>
    [Theory]
    [MemberData(nameof(RecipeNames))]
    public void Every_stored_figure_equals_its_run_record(string name)
    {
        var recipe = RecipeCatalog.Find(name);
        var derived = RecipeMeasurementStore.Derive(recipe, RecipeMeasurementStore.LoadFolder(s_measurements));
        var stored = RecipeCatalog.SerializeMeasured(recipe.Measured);
        Assert.True(stored == RecipeCatalog.SerializeMeasured(derived),
            $"recipe {name}'s measured list differs from what docs/measurements gives; run bash ci/recipe-store-measured\nstored: {stored}\nrecords: {RecipeCatalog.SerializeMeasured(derived)}");
        foreach (var entry in recipe.Measured)
        {
            Assert.NotNull(entry.Source);
            Assert.True(File.Exists(Path.Combine(TestPaths.RepoRoot, entry.Source)), $"{name}: {entry.Source} is missing");
        }
    }

    /// <summary>A record says what ran, when, where and on which build; without them its figures cannot be cited.</summary>
    [Theory]
    [MemberData(nameof(RecordFiles))]
    public void Every_record_names_its_command_date_and_machine(string file)
    {
        var record = MeasurementRecord.Load(Path.Combine(s_measurements, file));
        Assert.False(string.IsNullOrWhiteSpace(record.Command));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", record.Date);
        Assert.Contains(record.Date, file, StringComparison.Ordinal);
        Assert.True(record.Machine.Cores > 0 && !string.IsNullOrWhiteSpace(record.Machine.Cpu) && record.Machine.Build is not null, $"{file}: machine incomplete");
        Assert.True(record.Kind is MeasurementRecord.EvalKind or MeasurementRecord.BenchKind, $"{file}: kind {record.Kind}");
        Assert.True(record.Recipe is null || RecipeCatalog.TryFind(record.Recipe) is not null, $"{file}: no recipe {record.Recipe}");
    }

    private static RecipeMeasurementStore.Source Eval(string label, bool asymmetric, bool activationAware, double fp32, double int8, double int4,
        string date = "2026-01-01", string? file = null)
    {
        var report = $$"""
            { "model": "stories260K ({{label}})", "text": "heldout-story.txt", "threads": 2, "rows": [
              { "precision": "fp32", "block_size": null, "weight_bytes": 1461540, "perplexity": {{fp32}}, "top_one_agreement_with_fp32": null, "decode_tok_s": 9000, "peak_rss_mb": 50 },
              { "precision": "int8", "block_size": 128, "weight_bytes": 772949, "perplexity": {{int8}}, "top_one_agreement_with_fp32": 0.96, "decode_tok_s": 8500, "peak_rss_mb": 50 },
              { "precision": "int4", "block_size": 64, "weight_bytes": 366616, "perplexity": {{int4}}, "top_one_agreement_with_fp32": 0.75, "decode_tok_s": 8800, "peak_rss_mb": 49 } ] }
            """;
        return Source(file ?? $"quality-{label}.json", MeasurementRecord.EvalKind, "stories260K", "real weights", null, asymmetric, activationAware, date,
            $"edgenode models eval --model stories260K.bin --text tests/EdgeNode.Inference.Tests/Data/heldout-story.txt --threads 2", report);
    }

    private static RecipeMeasurementStore.Source Bench(string recipe, string precision, int block, bool asymmetric, double decode, double rssMb, string? file = null)
    {
        var report = $$"""{ "precision": "{{precision}}", "threads": 2, "decode_tok_s": {{decode}}, "child_peak_rss_mb": {{rssMb}} }""";
        return Source(file ?? $"recipe-{recipe}-{precision}.json", MeasurementRecord.BenchKind, recipe, $"random weights at the shape of {recipe}", block,
            asymmetric, activationAware: false, "2026-01-01", "edgenode bench --threads 2", report);
    }

    private static RecipeMeasurementStore.Source Source(string file, string kind, string recipe, string weights, int? block, bool asymmetric,
        bool activationAware, string date, string command, string report)
    {
        using var document = JsonDocument.Parse(report);
        return new RecipeMeasurementStore.Source($"docs/measurements/{file}", new MeasurementRecord
        {
            Command = command,
            Date = date,
            Machine = new MeasurementMachine { Cpu = "AMD EPYC", Cores = 2, Build = RecipeMeasurementStore.NativeAotBuild },
            Kind = kind,
            Recipe = recipe,
            Weights = weights,
            BlockSize = block,
            Asymmetric = asymmetric,
            ActivationAware = activationAware,
            Report = document.RootElement.Clone(),
        });
    }
}
