using System.Security.Cryptography;
using EdgeNode.Models.Chat;
using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Models.Conversion;

/// <summary>Options of <see cref="ModelConverter"/>; every default is the one `edgenode models convert` uses.</summary>
public sealed record ConversionOptions
{
    public WeightPrecision Precision { get; init; } = WeightPrecision.Fp32;

    /// <summary>
    /// Quantization block size along K for int8/int4 (MatMulNBits block_size); null picks the default of the
    /// precision. Measured at the shape of TinyLlama-1.1B on 2 cores: int8 decodes at 14.9 tok/s with block 32
    /// and 23.7 with 128; int4 at 26.7 (32), 34.5 (64), 39.4 (128).
    /// </summary>
    public int? BlockSize { get; init; }

    /// <summary>int8: 128 (8-bit error stays small over long blocks); int4: 64 (between 32's accuracy and 128's speed).</summary>
    public int EffectiveBlockSize => BlockSize ?? (Precision == WeightPrecision.Int8 ? 128 : 64);

    /// <summary>MatMulNBits accuracy_level for int8/int4: 4 = int8 activations inside the kernel (default), 0 = float.</summary>
    public int AccuracyLevel { get; init; } = 4;

    /// <summary>
    /// int8/int4: quantize each block over its own [min, max] with a uint8 zero point (MatMulNBits zero_points) instead
    /// of symmetrically around zero. Costs one zero point per block; pays off where blocks are lopsided.
    /// </summary>
    public bool Asymmetric { get; init; }

    /// <summary>The KV cache's element type; null picks <see cref="KvPrecisionNames.DefaultFor"/> the weight precision.</summary>
    public KvPrecision? KvPrecision { get; init; }

    public KvPrecision EffectiveKvPrecision => KvPrecision ?? KvPrecisionNames.DefaultFor(Precision);

    /// <summary>
    /// Matrices the checkpoint already held block-quantized (GgufCheckpoint.Read with keepBlocks): with int4 + Q4_0 or
    /// int8 + Q8_0 at block size 32 they go into the graph as they are, with no second rounding.
    /// </summary>
    public PrequantizedWeights? Prequantized { get; init; }

    /// <summary>Layer ranges to write as separate slices; null means one slice with all layers.</summary>
    public IReadOnlyList<(int First, int End)>? LayerRanges { get; init; }

    /// <summary>Model name recorded in the manifest; defaults to the checkpoint's folder name.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// A text file to calibrate activation-aware scaling on (<see cref="ActivationAwareScaling"/>), or null for none. The
    /// text should be like what the model will read; a few thousand tokens are enough.
    /// </summary>
    public string? CalibrationTextPath { get; init; }

    /// <summary>At most this many calibration tokens are run through the reference forward pass (it is slow on large models).</summary>
    public int MaxCalibrationTokens { get; init; } = 2048;

    /// <summary>The recipe and variant these options came from, recorded in the manifest.</summary>
    public string? RecipeName { get; init; }

    public string? RecipeVariant { get; init; }

    /// <summary>
    /// Chat format recorded in the manifest (a ChatTemplates name); null detects it from the chat_template of the
    /// tokenizer_config.json beside a tokenizer.json.
    /// </summary>
    public string? ChatTemplate { get; init; }
}

/// <summary>
/// Turns a llama2.c checkpoint into a folder of ONNX slices (embed, layer ranges, head), the tokenizer
/// and a manifest with the sha256 of every file.
/// </summary>
public static class ModelConverter
{
    public static ModelManifest Convert(string checkpointPath, string tokenizerPath, string outFolder, ConversionOptions options, IProgress<string>? progress = null)
    {
        var weights = Llama2cCheckpoint.Read(checkpointPath);
        var name = options.Name ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))) ?? "model";
        return Convert(weights, tokenizerPath, outFolder, options with { Name = name }, progress);
    }

    public static ModelManifest Convert(LlamaWeights weights, string tokenizerPath, string outFolder, ConversionOptions options, IProgress<string>? progress = null)
    {
        var config = weights.Config;
        // Load the tokenizer first so a mismatched vocabulary fails before minutes of conversion.
        var tokenizer = TextTokenizerLoader.Load(tokenizerPath, config.VocabSize);
        var ranges = options.LayerRanges ?? [(0, config.Layers)];
        ValidateRanges(ranges, config.Layers);
        ManifestActivationAware? activationAware = null;
        var prequantized = options.Prequantized;
        if (options.CalibrationTextPath is { } calibrationPath)
        {
            var calibration = ActivationCalibration.Read(calibrationPath, tokenizer, options.MaxCalibrationTokens);
            progress?.Report($"activation-aware scaling: calibrating on {calibration.Tokens} tokens of {Path.GetFileName(calibrationPath)}");
            var activations = ChannelActivations.Collect(weights, calibration.Sequences,
                done => progress?.Report($"calibration {done}/{calibration.Tokens} tokens"));
            weights = ActivationAwareScaling.Apply(weights, activations);
            // Blocks read from a GGUF hold the unscaled weights; the scaled ones must be quantized afresh.
            prequantized = null;
            activationAware = new ManifestActivationAware
            {
                CalibrationSha256 = calibration.Sha256, Tokens = activations.Positions, Alpha = ActivationAwareScaling.DefaultAlpha,
            };
        }
        Directory.CreateDirectory(outFolder);

        var builder = CreateBuilder(weights, options, prequantized);
        var specs = new List<SliceSpec> { SliceSpec.EmbedOnly };
        specs.AddRange(ranges.Select(r => SliceSpec.Layers(r.First, r.End)));
        specs.Add(SliceSpec.HeadOnly(config.Layers));

        var slices = new List<ManifestSlice>();
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            progress?.Report($"[{i + 1}/{specs.Count}] {spec.FileName}");
            builder.Build(spec, Path.Combine(outFolder, spec.FileName));
            slices.Add(new ManifestSlice { File = spec.FileName, Embed = spec.Embed, FirstLayer = spec.FirstLayer, EndLayer = spec.EndLayer, Head = spec.Head });
        }

        var (tokenizerName, chatTemplate, _) = CopyTokenizer(tokenizerPath, outFolder, options);
        var manifest = CreateManifest(config, options, tokenizerName, chatTemplate, slices, HashFiles(outFolder), activationAware);
        manifest.Save(outFolder);
        return manifest;
    }

    internal static LlamaSliceBuilder CreateBuilder(LlamaWeights weights, ConversionOptions options, PrequantizedWeights? prequantized) =>
        new(weights, options.Precision, options.EffectiveBlockSize, options.AccuracyLevel, options.Asymmetric, prequantized, options.EffectiveKvPrecision);

    /// <summary>Copies the tokenizer (and a tokenizer.json's config) into the folder; returns its name there, the chat format, and the files written.</summary>
    internal static (string TokenizerName, string? ChatTemplate, List<string> Files) CopyTokenizer(string tokenizerPath, string outFolder, ConversionOptions options)
    {
        var files = new List<string>(2);
        var tokenizerName = TextTokenizerLoader.IsHuggingFace(tokenizerPath) ? "tokenizer.json" : "tokenizer.bin";
        var tokenizerTarget = Path.Combine(outFolder, tokenizerName);
        if (!string.Equals(Path.GetFullPath(tokenizerPath), Path.GetFullPath(tokenizerTarget), StringComparison.Ordinal))
            File.Copy(tokenizerPath, tokenizerTarget, overwrite: true);
        files.Add(tokenizerTarget);
        // A tokenizer.json names its BOS/EOS in the tokenizer_config.json beside it: keep the pair together.
        var tokenizerConfig = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!, "tokenizer_config.json");
        if (TextTokenizerLoader.IsHuggingFace(tokenizerPath) && File.Exists(tokenizerConfig))
        {
            var configTarget = Path.Combine(outFolder, "tokenizer_config.json");
            if (!string.Equals(Path.GetFullPath(tokenizerConfig), Path.GetFullPath(configTarget), StringComparison.Ordinal))
                File.Copy(tokenizerConfig, configTarget, overwrite: true);
            files.Add(configTarget);
        }

        var chatTemplate = options.ChatTemplate is { } chosen ? ChatTemplates.Get(chosen).Name
            : TextTokenizerLoader.IsHuggingFace(tokenizerPath) && File.Exists(tokenizerConfig) ? ChatTemplates.DetectInTokenizerConfig(tokenizerConfig) : null;
        return (tokenizerName, chatTemplate, files);
    }

    internal static ModelManifest CreateManifest(LlamaConfig config, ConversionOptions options, string tokenizerName, string? chatTemplate,
        List<ManifestSlice> slices, List<ManifestFile> files, ManifestActivationAware? activationAware)
    {
        return new ModelManifest
        {
            Name = options.Name ?? "model",
            Config = ModelManifest.FromLlamaConfig(config),
            Precision = options.Precision.ToName(),
            BlockSize = options.Precision == WeightPrecision.Fp32 ? 0 : options.EffectiveBlockSize,
            KvPrecisionName = options.EffectiveKvPrecision.ToName(),
            Tokenizer = tokenizerName,
            ChatTemplate = chatTemplate,
            Slices = slices,
            Files = files,
            Quantization = new ManifestQuantization
            {
                Precision = options.Precision.ToName(),
                BlockSize = options.Precision == WeightPrecision.Fp32 ? 0 : options.EffectiveBlockSize,
                AccuracyLevel = options.AccuracyLevel,
                Asymmetric = options.Asymmetric,
                ActivationAware = activationAware,
                Recipe = options.RecipeName,
                Variant = options.RecipeVariant,
            },
        };
    }

    /// <summary>Parses "a:b" or "a:b,b:c" into layer ranges.</summary>
    public static IReadOnlyList<(int First, int End)> ParseLayerRanges(string text)
    {
        var ranges = new List<(int, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split(':');
            if (ends.Length != 2 || !int.TryParse(ends[0], out var first) || !int.TryParse(ends[1], out var end))
                throw new ArgumentException($"--layers '{part}' is not a range like 0:3");
            ranges.Add((first, end));
        }
        return ranges;
    }

    private static void ValidateRanges(IReadOnlyList<(int First, int End)> ranges, int layers)
    {
        foreach (var (first, end) in ranges)
        {
            if (first < 0 || end > layers || first >= end)
                throw new ArgumentException($"layer range {first}:{end} is not inside the model's {layers} layers (0:{layers})");
        }
    }

    private static List<ManifestFile> HashFiles(string folder)
    {
        var files = new List<ManifestFile>();
        foreach (var path in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name == ModelManifest.FileName)
                continue;
            files.Add(HashFile(path));
        }
        return files;
    }

    internal static ManifestFile HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return new ManifestFile { Path = Path.GetFileName(path), Bytes = stream.Length, Sha256 = System.Convert.ToHexStringLower(SHA256.HashData(stream)) };
    }
}
