using EdgeNode.Models.Conversion.Quantization;

namespace EdgeNode.Models.Import;

/// <summary>
/// Reads the weights of a checkpoint in any format EdgeNode reads, found by its shape on disk: a Hugging Face folder
/// (config.json + safetensors), a .gguf file, or a llama2.c checkpoint (a .bin file). Every reader seeks to each
/// tensor it needs, so with a <see cref="WeightSelection"/> only a slice's tensors are read from disk and held.
/// </summary>
public static class CheckpointReader
{
    public static bool IsGguf(string path) => File.Exists(path) && path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);

    public static bool IsHuggingFace(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, HuggingFaceConfig.FileName));

    /// <summary>The model's shape, read from the header or config alone.</summary>
    public static LlamaConfig ReadConfig(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (IsHuggingFace(path))
            return HuggingFaceConfig.Read(Path.Combine(path, HuggingFaceConfig.FileName)).Model;
        if (IsGguf(path))
            return GgufCheckpoint.ReadConfig(path);
        if (File.Exists(path))
            return Llama2cCheckpoint.ReadConfig(path);
        throw new FileNotFoundException(
            $"checkpoint {path} not found: pass a llama2.c .bin file, a .gguf file or a Hugging Face folder (config.json + safetensors)");
    }

    /// <param name="keepBlocks">GGUF only: collects the Q4_0/Q8_0 blocks the file holds (see <see cref="GgufCheckpoint.Read(string, PrequantizedWeights?)"/>).</param>
    public static LlamaWeights Read(string path, WeightSelection selection, PrequantizedWeights? keepBlocks = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(selection);
        if (IsHuggingFace(path))
            return HuggingFaceCheckpoint.Read(path, selection);
        if (IsGguf(path))
            return GgufCheckpoint.Read(path, keepBlocks, selection);
        if (File.Exists(path))
            return Llama2cCheckpoint.Read(path, selection);
        throw new FileNotFoundException(
            $"checkpoint {path} not found: pass a llama2.c .bin file, a .gguf file or a Hugging Face folder (config.json + safetensors)");
    }
}
