using System.Security.Cryptography;
using System.Text;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// Turns what a user passes as --model into a folder of ONNX slices: a converted folder (has
/// manifest.json) is used as it is; a llama2.c checkpoint, or a folder holding one, is converted once
/// into EDGENODE_HOME/converted and reused; a bare name is looked up among pulled models.
/// </summary>
public static class ModelResolver
{
    private static readonly string[] s_tokenizerNames = ["tokenizer.bin", "tok512.bin"];

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

        var checkpoint = Directory.Exists(path) ? FindCheckpoint(path) : path;
        var tokenizerPath = tokenizer ?? FindTokenizer(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!)
            ?? throw new FileNotFoundException($"no tokenizer beside {checkpoint} (looked for {string.Join(", ", s_tokenizerNames)}); pass --tokenizer FILE");
        if (!File.Exists(tokenizerPath))
            throw new FileNotFoundException($"tokenizer {tokenizerPath} not found");
        var options = conversion with { Precision = precision ?? WeightPrecision.Fp32, Name = Path.GetFileNameWithoutExtension(checkpoint) };
        var chosen = options.Precision;
        var target = Path.Combine(AgentPaths.Converted, CacheKey(checkpoint, tokenizerPath, options));
        if (File.Exists(Path.Combine(target, ModelManifest.FileName)))
            return target;

        var staging = target + ".partial";
        if (Directory.Exists(staging))
            Directory.Delete(staging, recursive: true);
        ModelConverter.Convert(checkpoint, tokenizerPath, staging,
            options,
            new LineProgress(log, "edgenode:   ", $"edgenode: converting {checkpoint} to ONNX ({chosen.ToName()}) into {target}"));
        if (Directory.Exists(target))
            Directory.Delete(target, recursive: true);
        Directory.Move(staging, target);
        return target;
    }

    private static string FindCheckpoint(string folder)
    {
        var candidates = Directory.GetFiles(folder, "*.bin")
            .Where(f => !s_tokenizerNames.Contains(Path.GetFileName(f)) && new FileInfo(f).Length > 28)
            .Order(StringComparer.Ordinal)
            .ToList();
        return candidates.Count switch
        {
            0 => throw new FileNotFoundException($"{folder} holds neither manifest.json (a converted model) nor a llama2.c checkpoint (*.bin)"),
            1 => candidates[0],
            _ => throw new ArgumentException($"{folder} holds several checkpoints ({string.Join(", ", candidates.Select(Path.GetFileName))}); pass the one you want"),
        };
    }

    private static string? FindTokenizer(string folder) =>
        s_tokenizerNames.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    /// <summary>name-hash-precision, where the hash covers the files' paths, sizes and times (cheap, and changes when they do).</summary>
    private static string CacheKey(string checkpoint, string tokenizer, ConversionOptions options)
    {
        var identity = new StringBuilder();
        foreach (var file in new[] { checkpoint, tokenizer })
        {
            var info = new FileInfo(file);
            identity.Append(info.FullName).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        var precision = options.Precision;
        identity.Append(precision.ToName());
        if (precision != WeightPrecision.Fp32)
            identity.Append('|').Append(options.EffectiveBlockSize).Append('|').Append(options.AccuracyLevel);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity.ToString())))[..12];
        return $"{Path.GetFileNameWithoutExtension(checkpoint)}-{hash}-{precision.ToName()}";
    }
}
