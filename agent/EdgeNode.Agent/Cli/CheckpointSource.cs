using EdgeNode.Models;
using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Chat;
using EdgeNode.Models.Gguf;
using EdgeNode.Models.Import;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// A checkpoint a user points at, in any format EdgeNode reads: a llama2.c .bin (or the folder holding
/// one), a .gguf file, or a Hugging Face folder (config.json + safetensors + tokenizer.json). It knows its
/// files (for the conversion cache key), how to read the weights, and where its tokenizer is.
/// </summary>
public sealed class CheckpointSource
{
    private static readonly string[] s_llama2cTokenizerNames = ["tokenizer.bin", "tok512.bin"];

    private readonly Func<PrequantizedWeights?, LlamaWeights> _read;
    private readonly Func<string, string> _tokenizer;

    private readonly Lazy<string?> _chatTemplate;

    private CheckpointSource(string name, string format, string path, IReadOnlyList<string> files, Func<PrequantizedWeights?, LlamaWeights> read,
        Func<string, string> tokenizer, Func<string?>? chatTemplate = null)
    {
        Name = name;
        CheckpointPath = path;
        Format = format;
        Files = files;
        _read = read;
        _tokenizer = tokenizer;
        _chatTemplate = new Lazy<string?>(chatTemplate ?? (() => null));
    }

    public string Name { get; }

    /// <summary>The checkpoint: a llama2.c or GGUF file, or a Hugging Face folder.</summary>
    public string CheckpointPath { get; }

    /// <summary>"llama2.c", "gguf" or "huggingface".</summary>
    public string Format { get; }

    /// <summary>The files whose content defines the model (weights, config, tokenizer).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>
    /// The chat format the file itself names (a GGUF's tokenizer.chat_template), or null. A Hugging Face folder's
    /// tokenizer_config.json is read by the converter instead, beside its tokenizer.json.
    /// </summary>
    /// <remarks>Read on first use: opening a GGUF parses its whole header, which a cached conversion never needs.</remarks>
    public string? ChatTemplate => _chatTemplate.Value;

    /// <summary>True for formats whose matrices may already be block-quantized (GGUF Q4_0/Q8_0).</summary>
    public bool MayHoldBlocks => Format == "gguf";

    /// <summary>After <see cref="ReadWeights"/>: the Q4_0/Q8_0 blocks the file held, to go into the graph without a second rounding.</summary>
    public PrequantizedWeights? Prequantized { get; private set; }

    public LlamaWeights ReadWeights()
    {
        var blocks = MayHoldBlocks ? new PrequantizedWeights() : null;
        var weights = _read(blocks);
        Prequantized = blocks is { Count: > 0 } ? blocks : null;
        return weights;
    }

    /// <summary>The tokenizer's path; a GGUF's embedded tokenizer is written into <paramref name="scratchFolder"/> first.</summary>
    public string TokenizerPath(string scratchFolder) => _tokenizer(scratchFolder);

    public static CheckpointSource Open(string path, string? tokenizer)
    {
        if (tokenizer is not null && !File.Exists(tokenizer))
            throw new FileNotFoundException($"tokenizer {tokenizer} not found");
        if (Directory.Exists(path) && File.Exists(Path.Combine(path, "config.json")))
            return HuggingFace(path, tokenizer);
        if (File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            return Gguf(path, tokenizer);
        var checkpoint = Directory.Exists(path) ? FindLlama2cCheckpoint(path) : path;
        if (!File.Exists(checkpoint))
            throw new FileNotFoundException($"checkpoint {checkpoint} not found");
        var tokenizerPath = tokenizer ?? s_llama2cTokenizerNames.Select(n => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, n)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"no tokenizer beside {checkpoint} (looked for {string.Join(", ", s_llama2cTokenizerNames)}); pass --tokenizer FILE");
        // A generic file name (model.bin) says less than the folder it sits in (llama2xs-tok512-280K/model.bin).
        var stem = Path.GetFileNameWithoutExtension(checkpoint);
        var name = stem == "model" ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(checkpoint)))! : stem;
        return new CheckpointSource(name, "llama2.c", checkpoint, [checkpoint, tokenizerPath],
            _ => Llama2cCheckpoint.Read(checkpoint), _ => tokenizerPath);
    }

    private static CheckpointSource HuggingFace(string folder, string? tokenizer)
    {
        var tokenizerPath = tokenizer ?? Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(tokenizerPath))
            throw new FileNotFoundException($"{folder} has config.json but no tokenizer.json; pass --tokenizer FILE");
        var files = Directory.GetFiles(folder).Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (tokenizer is not null)
            files.Add(tokenizer);
        return new CheckpointSource(Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')), "huggingface", folder, files,
            _ => HuggingFaceCheckpoint.Read(folder), _ => tokenizerPath);
    }

    private static CheckpointSource Gguf(string file, string? tokenizer)
    {
        List<string> files = tokenizer is null ? [file] : [file, tokenizer];
        return new CheckpointSource(Path.GetFileNameWithoutExtension(file), "gguf", file, files,
            blocks => GgufCheckpoint.Read(file, blocks),
            scratch =>
            {
                if (tokenizer is not null)
                    return tokenizer;
                var extracted = Path.Combine(scratch, "gguf-tokenizer.bin");
                GgufTokenizerExtractor.WriteLlama2cTokenizer(file, extracted);
                return extracted;
            },
            () => GgufFile.Open(file).Metadata.TryGetValue("tokenizer.chat_template", out var template) && template is string text ? ChatTemplates.Detect(text) : null);
    }

    private static string FindLlama2cCheckpoint(string folder)
    {
        var candidates = Directory.GetFiles(folder, "*.bin")
            .Where(f => !s_llama2cTokenizerNames.Contains(Path.GetFileName(f)) && new FileInfo(f).Length > 28)
            .Order(StringComparer.Ordinal)
            .ToList();
        return candidates.Count switch
        {
            0 => throw new FileNotFoundException($"{folder} holds no model: no manifest.json (a converted model), no config.json (a Hugging Face folder) and no llama2.c checkpoint (*.bin)"),
            1 => candidates[0],
            _ => throw new ArgumentException($"{folder} holds several checkpoints ({string.Join(", ", candidates.Select(Path.GetFileName))}); pass the one you want"),
        };
    }
}
