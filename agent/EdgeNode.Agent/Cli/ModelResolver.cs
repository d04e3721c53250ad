using System.Security.Cryptography;
using System.Text;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// Turns what a user passes as --model into a folder of ONNX slices: a converted folder (has
/// manifest.json) is used as it is; a checkpoint in any format <see cref="CheckpointSource"/> reads is
/// converted once into EDGENODE_HOME/converted and reused; a bare name is looked up among pulled models.
/// </summary>
public static class ModelResolver
{
    public static string Resolve(string model, string? tokenizer, WeightPrecision? precision, ConversionOptions conversion, TextWriter log)
    {
        var path = model;
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            var pulled = Path.Combine(AgentPaths.Models, model);
            if (!Directory.Exists(pulled))
                throw new FileNotFoundException($"model '{model}' not found: not a file, not a folder, and not a pulled model (see 'edgenode models list', or 'edgenode models pull {model}')");
            path = pulled;
        }

        if (Directory.Exists(path) && File.Exists(Path.Combine(path, ModelManifest.FileName)))
        {
            var manifest = ModelManifest.Load(path);
            if (precision is { } p && p != manifest.WeightPrecision)
                throw new ArgumentException($"{path} was converted at {manifest.Precision}, not {p.ToName()}; convert the checkpoint again with --precision {p.ToName()} or pass the checkpoint itself");
            return path;
        }

        var source = CheckpointSource.Open(path, tokenizer);
        // Only what the cache key needs here; Convert applies the rest of ForSource when a conversion runs.
        var options = WithBlockSizeDefault(source, conversion with { Precision = precision ?? WeightPrecision.Fp32, Name = source.Name });
        var target = Path.Combine(AgentPaths.Converted, CacheKey(source, options));
        if (File.Exists(Path.Combine(target, ModelManifest.FileName)))
            return target;
        Convert(source, target, options, log);
        return target;
    }

    /// <summary>Converts <paramref name="source"/> into <paramref name="target"/> through a staging folder, so a failed run leaves nothing half-written.</summary>
    /// <param name="checkShape">Called with the checkpoint's shape once its weights are read, before any conversion work (a recipe's check).</param>
    public static ModelManifest Convert(CheckpointSource source, string target, ConversionOptions options, TextWriter log, Action<LlamaConfig>? checkShape = null)
    {
        var staging = target.TrimEnd('/') + ".partial";
        var scratch = staging + ".scratch";
        foreach (var dir in new[] { staging, scratch })
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(scratch);
        try
        {
            var weights = source.ReadWeights();
            checkShape?.Invoke(weights.Config);
            options = ForSource(source, options) with { Prequantized = source.Prequantized };
            var manifest = ModelConverter.Convert(weights, source.TokenizerPath(scratch), staging, options,
                new LineProgress(log, "edgenode:   ", $"edgenode: converting {source.Name} ({source.Format}) to ONNX ({options.Precision.ToName()}) into {target}"));
            if (Directory.Exists(target))
                Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
            return manifest;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The options a conversion of <paramref name="source"/> runs with: the block-size default below, and
    /// the chat format the file names (a GGUF's) unless one was chosen.</summary>
    public static ConversionOptions ForSource(CheckpointSource source, ConversionOptions options)
    {
        options = WithBlockSizeDefault(source, options);
        return options.ChatTemplate is null && source.ChatTemplate is { } named ? options with { ChatTemplate = named } : options;
    }

    /// <summary>
    /// A GGUF's Q4_0/Q8_0 blocks can only go into the graph unchanged at block size 32, so that is the
    /// default for GGUF input (an explicit --block-size still wins).
    /// </summary>
    private static ConversionOptions WithBlockSizeDefault(CheckpointSource source, ConversionOptions options) =>
        source.MayHoldBlocks && options.BlockSize is null && options.Precision != WeightPrecision.Fp32
            ? options with { BlockSize = 32 }
            : options;

    /// <summary>name-hash-precision, where the hash covers the files' paths, sizes and times (cheap, and changes when they do).</summary>
    private static string CacheKey(CheckpointSource source, ConversionOptions options)
    {
        var identity = new StringBuilder();
        foreach (var file in source.Files)
        {
            var info = new FileInfo(file);
            identity.Append(info.FullName).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        var precision = options.Precision;
        identity.Append("graph|").Append(LlamaSliceBuilder.GraphRevision).Append('|').Append(precision.ToName());
        if (precision != WeightPrecision.Fp32)
            identity.Append('|').Append(options.EffectiveBlockSize).Append('|').Append(options.AccuracyLevel).Append('|').Append(options.Asymmetric);
        if (options.LayerRanges is { } ranges)
            identity.Append("|layers|").Append(string.Join(',', ranges.Select(r => $"{r.First}:{r.End}")));
        if (options.CalibrationTextPath is { } calibration)
            identity.Append("|awq|").Append(System.Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(calibration))));
        var hash = System.Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString())))[..12];
        return $"{source.Name}-{hash}-{precision.ToName()}";
    }
}
