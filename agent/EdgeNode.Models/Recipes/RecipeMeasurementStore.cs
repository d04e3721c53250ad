using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeNode.Models.Recipes;

/// <summary>
/// Derives a recipe's `measured` list from the measurement records under docs/measurements/: each entry comes from the
/// one run that converted exactly as the variant says (precision, block size, zero points, activation-aware scaling),
/// so a figure can never be shown under a variant it was not measured on. ci/recipe-store-measured writes the result
/// into the recipe files; a test checks the stored lists still equal what the records give.
/// </summary>
public static partial class RecipeMeasurementStore
{
    /// <summary>Where the records live, relative to the repository; entries name their record by this path.</summary>
    public const string Folder = "docs/measurements";

    public const string NativeAotBuild = "NativeAOT (ci/publish-aot)";

    /// <summary>A record and its path relative to the repository (docs/measurements/NAME.json).</summary>
    public sealed record Source(string Path, MeasurementRecord Record);

    /// <summary>Every record in <paramref name="folder"/> (docs/measurements of a checkout), in file-name order.</summary>
    public static List<Source> LoadFolder(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal)
                .Select(f => new Source($"{Folder}/{System.IO.Path.GetFileName(f)}", MeasurementRecord.Load(f))).ToList()
            : throw new DirectoryNotFoundException($"measurement folder {folder} not found; pass the docs/measurements folder of a checkout");

    /// <summary>
    /// The entries of <paramref name="recipe"/>: per variant and device the latest run of exactly that variant, in the
    /// recipe's variant order. Two runs of one variant on one device and day are an error naming both records.
    /// </summary>
    public static List<RecipeMeasurement> Derive(ModelRecipe recipe, IEnumerable<Source> sources)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(sources);
        var candidates = new List<(RecipeMeasurement Entry, string Path)>();
        foreach (var source in sources.Where(s => string.Equals(s.Record.Recipe, recipe.Name, StringComparison.Ordinal)))
        {
            foreach (var row in Rows(source))
            {
                foreach (var variant in recipe.Variants)
                {
                    if (Entry(variant, source, row) is { } entry)
                        candidates.Add((entry, source.Path));
                }
            }
        }
        var entries = new List<RecipeMeasurement>();
        foreach (var group in candidates.GroupBy(c => (c.Entry.Variant, c.Entry.Device)))
        {
            var latest = group.MaxBy(c => c.Entry.Date, StringComparer.Ordinal);
            var ties = group.Where(c => c.Entry.Date == latest.Entry.Date).Select(c => c.Path).Distinct().ToList();
            if (ties.Count > 1)
            {
                throw new ModelFormatException(
                    $"recipe {recipe.Name}: variant {group.Key.Variant} was measured on {group.Key.Device} on {latest.Entry.Date} by "
                    + $"{string.Join(" and ", ties)}; keep one of them");
            }
            entries.Add(latest.Entry);
        }
        return entries
            .OrderBy(e => recipe.Variants.FindIndex(v => v.Name == e.Variant))
            .ThenBy(e => e.Device, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>What one precision of a run measured, before it is matched to a variant.</summary>
    private sealed record Row(string Precision, int? BlockSize, int Threads, double? Perplexity, double? TopOneAgreement,
        double DecodeTokS, long? WeightBytes, double PeakRssMb);

    private static IEnumerable<Row> Rows(Source source)
    {
        var record = source.Record;
        var report = record.Report;
        try
        {
            var threads = report.GetProperty("threads").GetInt32();
            switch (record.Kind)
            {
                case MeasurementRecord.EvalKind:
                    return report.GetProperty("rows").EnumerateArray().Select(r => new Row(
                        r.GetProperty("precision").GetString()!,
                        OptionalInt(r, "block_size"),
                        threads,
                        r.GetProperty("perplexity").GetDouble(),
                        OptionalDouble(r, "top_one_agreement_with_fp32"),
                        r.GetProperty("decode_tok_s").GetDouble(),
                        r.GetProperty("weight_bytes").GetInt64(),
                        r.GetProperty("peak_rss_mb").GetDouble())).ToList();
                case MeasurementRecord.BenchKind:
                    return
                    [
                        new Row(report.GetProperty("precision").GetString()!, record.BlockSize, threads, null, null,
                            report.GetProperty("decode_tok_s").GetDouble(), null, report.GetProperty("child_peak_rss_mb").GetDouble()),
                    ];
                default:
                    throw new ModelFormatException($"measurement {source.Path}: kind '{record.Kind}' is not '{MeasurementRecord.EvalKind}' or '{MeasurementRecord.BenchKind}'");
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelFormatException($"measurement {source.Path}: its report lacks a {record.Kind} figure ({e.Message}); record it again with ci/record-measurement", e);
        }
    }

    private static RecipeMeasurement? Entry(RecipeVariant variant, Source source, Row row)
    {
        var record = source.Record;
        if (!string.Equals(variant.Precision, row.Precision, StringComparison.OrdinalIgnoreCase))
            return null;
        var fp32 = variant.BlockSize == 0;
        if (!fp32 && row.BlockSize is null)
            throw new ModelFormatException($"measurement {source.Path}: the {row.Precision} run names no block size; record it with block=N");
        if (!fp32 && row.BlockSize != variant.BlockSize)
            return null;
        if (record.Asymmetric != variant.Asymmetric)
            return null;
        var weights = record.Weights;
        if (record.ActivationAware != variant.ActivationAware)
        {
            // Activation-aware scaling changes the weights' values, not their bytes or the kernels that read them: a
            // speed-and-memory run on random weights stands for the scaled variant too, and says so. A run that measured
            // quality never does.
            var speedOnly = row.Perplexity is null && weights.StartsWith("random", StringComparison.OrdinalIgnoreCase);
            if (!(speedOnly && variant.ActivationAware && !record.ActivationAware))
                return null;
            weights += " (activation-aware scaling not applied: it changes values, not speed or size)";
        }
        return new RecipeMeasurement
        {
            Variant = variant.Name,
            Device = Device(record.Machine, row.Threads),
            Weights = weights,
            Perplexity = row.Perplexity is { } p ? Math.Round(p, 3) : null,
            PerplexityText = row.Perplexity is null ? null : TextArgument(record.Command),
            GreedyAgreement = row.TopOneAgreement is { } a ? Math.Round(a, 4) : null,
            DecodeTokensPerSecond = Math.Round(row.DecodeTokS, 1),
            WeightBytes = row.WeightBytes,
            PeakRssBytes = (long)(row.PeakRssMb * 1048576),
            Date = record.Date,
            Source = source.Path,
        };
    }

    /// <summary>"AMD EPYC (2 cores), 2 threads", plus the build when it is not the NativeAOT binary users run.</summary>
    public static string Device(MeasurementMachine machine, int threads)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var cpu = CoreCountSuffix().Replace(machine.Cpu.Trim(), "");
        var device = string.Create(CultureInfo.InvariantCulture, $"{cpu} ({machine.Cores} cores), {threads} threads");
        return machine.Build is null || machine.Build == NativeAotBuild ? device : $"{device}, {machine.Build}";
    }

    /// <summary>The file after --text in a recorded command line: the text the perplexity was measured on.</summary>
    private static string? TextArgument(string command)
    {
        var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(parts, "--text");
        return at >= 0 && at + 1 < parts.Length ? parts[at + 1] : null;
    }

    private static int? OptionalInt(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    private static double? OptionalDouble(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    [GeneratedRegex(@"\s+\d+-Core Processor$")]
    private static partial Regex CoreCountSuffix();
}
