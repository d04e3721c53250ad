using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeNode.Models.Conversion;

/// <summary>
/// manifest.json of a converted model folder: what the model is, how it was cut into slices, and the
/// sha256 of every file so a node can check a slice it fetched from a peer.
/// </summary>
public sealed class ModelManifest
{
    public const string FileName = "manifest.json";
    public const string CurrentFormat = "edgenode-slices/1";

    public string Format { get; set; } = CurrentFormat;
    public string Architecture { get; set; } = "llama";
    public required string Name { get; set; }
    public required ManifestConfig Config { get; set; }
    public required string Precision { get; set; }
    public int BlockSize { get; set; }

    /// <summary>The KV cache's element type ("fp16" or "fp32"); manifests written before it was recorded leave it null: fp32.</summary>
    [JsonPropertyName("kv_precision")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? KvPrecisionName { get; set; }

    public required string Tokenizer { get; set; }
    public string? SourceSha256 { get; set; }

    /// <summary>The chat format of the model (a ChatTemplates name), when it has one; `generate --chat` uses it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ChatTemplate { get; set; }

    public required List<ManifestSlice> Slices { get; set; }
    public required List<ManifestFile> Files { get; set; }

    /// <summary>How the weights were quantized; absent in manifests written before it was recorded.</summary>
    public ManifestQuantization? Quantization { get; set; }

    [JsonIgnore]
    public WeightPrecision WeightPrecision => WeightPrecisionNames.Parse(Precision);

    [JsonIgnore]
    public KvPrecision KvPrecision => KvPrecisionName is null ? KvPrecision.Fp32 : KvPrecisionNames.Parse(KvPrecisionName);

    public static ModelManifest Load(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            throw new ModelFormatException($"{folder}: no {FileName}; convert a checkpoint first with `edgenode models convert <checkpoint> --out {folder}`");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>A manifest from its JSON bytes (e.g. as a peer sent them); <paramref name="source"/> names them in errors.</summary>
    public static ModelManifest Parse(ReadOnlySpan<byte> json, string source)
    {
        var path = source;
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.ModelManifest);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: not a valid manifest ({e.Message}); convert the model again");
        }
        if (manifest is null || manifest.Format != CurrentFormat)
            throw new ModelFormatException($"{path}: format '{manifest?.Format}' is not {CurrentFormat}; convert the model again with this version");
        if (manifest.KvPrecisionName is { } kv && kv is not ("fp16" or "fp32"))
            throw new ModelFormatException($"{path}: kv_precision '{kv}' is neither fp16 nor fp32; convert the model again");
        return manifest;
    }

    public void Save(string folder) =>
        File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, ManifestJsonContext.Default.ModelManifest));

    public LlamaConfig ToLlamaConfig() => new(Config.Dim, Config.HiddenDim, Config.Layers, Config.Heads, Config.KvHeads, Config.VocabSize, Config.MaxSeqLen)
    {
        RopeTheta = Config.RopeTheta,
        NormEps = Config.NormEps,
        // Manifests written before head_size existed leave it 0: the head size was then always dim / heads.
        HeadSize = Config.HeadSize > 0 ? Config.HeadSize : Config.Dim / Config.Heads,
    };

    public static ManifestConfig FromLlamaConfig(LlamaConfig c) => new()
    {
        Dim = c.Dim, HiddenDim = c.HiddenDim, Layers = c.Layers, Heads = c.Heads, KvHeads = c.KvHeads,
        VocabSize = c.VocabSize, MaxSeqLen = c.MaxSeqLen, RopeTheta = c.RopeTheta, NormEps = c.NormEps, HeadSize = c.HeadSize,
    };

    /// <summary>The files of <paramref name="slice"/>: its .onnx and, when the manifest lists one, its external data.</summary>
    public IReadOnlyList<ManifestFile> FilesOf(ManifestSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        return Files.FindAll(f => f.Path == slice.File || f.Path == slice.File + ".data");
    }

    /// <summary>Files that belong to no slice: the tokenizer and its config.</summary>
    [JsonIgnore]
    public IReadOnlyList<ManifestFile> ModelFiles => Files.FindAll(f => !Slices.Exists(s => f.Path == s.File || f.Path == s.File + ".data"));

    /// <summary>Whether the folder holds the whole model: the embedding, every layer once and in order, and the head.</summary>
    [JsonIgnore]
    public bool IsComplete
    {
        get
        {
            var next = 0;
            foreach (var s in Slices.Where(s => s.EndLayer > s.FirstLayer).OrderBy(s => s.FirstLayer))
            {
                if (s.FirstLayer != next)
                    return false;
                next = s.EndLayer;
            }
            return next == Config.Layers && Slices.Exists(s => s.Embed) && Slices.Exists(s => s.Head);
        }
    }

    /// <summary>
    /// This manifest narrowed to <paramref name="slices"/> (and, with <paramref name="modelFiles"/>, the tokenizer files):
    /// what a folder that holds only those slices records. Everything else (name, shape, precision, hashes) stays as the
    /// model's owner published it.
    /// </summary>
    public ModelManifest Holding(IEnumerable<ManifestSlice> slices, bool modelFiles)
    {
        ArgumentNullException.ThrowIfNull(slices);
        var held = slices.ToList();
        var files = held.SelectMany(FilesOf).ToList();
        if (modelFiles)
            files.AddRange(ModelFiles);
        return new ModelManifest
        {
            Format = Format, Architecture = Architecture, Name = Name, Config = Config, Precision = Precision, BlockSize = BlockSize,
            KvPrecisionName = KvPrecisionName, Tokenizer = Tokenizer, SourceSha256 = SourceSha256, ChatTemplate = ChatTemplate,
            Slices = held, Files = files.DistinctBy(f => f.Path).OrderBy(f => f.Path, StringComparer.Ordinal).ToList(), Quantization = Quantization,
        };
    }

    /// <summary>The slice that covers exactly this part of the model, or null.</summary>
    public ManifestSlice? Find(bool embed, int first, int end, bool head) =>
        Slices.Find(s => s.Embed == embed && s.FirstLayer == first && s.EndLayer == end && s.Head == head);
}

public sealed class ManifestConfig
{
    public int Dim { get; set; }
    public int HiddenDim { get; set; }
    public int Layers { get; set; }
    public int Heads { get; set; }
    public int KvHeads { get; set; }
    public int VocabSize { get; set; }
    public int MaxSeqLen { get; set; }
    public float RopeTheta { get; set; }
    public float NormEps { get; set; }
    public int HeadSize { get; set; }
}

public sealed class ManifestSlice
{
    public required string File { get; set; }
    public bool Embed { get; set; }
    public int FirstLayer { get; set; }
    public int EndLayer { get; set; }
    public bool Head { get; set; }

    public SliceSpec ToSpec() => new(Embed, FirstLayer, EndLayer, Head);
}

public sealed class ManifestFile
{
    public required string Path { get; set; }
    public long Bytes { get; set; }
    public required string Sha256 { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
