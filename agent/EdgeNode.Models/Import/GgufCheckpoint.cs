using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Gguf;

namespace EdgeNode.Models.Import;

/// <summary>
/// Reads a llama.cpp GGUF model (architectures "llama", which covers Mistral, "qwen2" and "qwen3") into float32 weights,
/// dequantizing F16, BF16, Q8_0, Q4_0, Q4_K and Q6_K. The tokenizer inside the file is left alone.
/// </summary>
public static class GgufCheckpoint
{
    public static LlamaWeights Read(string path) => Read(path, keepBlocks: null);

    /// <summary>
    /// Reads the weights and, when <paramref name="keepBlocks"/> is given, also adds to it the Q4_0 and Q8_0 matrices
    /// as MatMulNBits blocks, so a 4-bit or 8-bit block-32 conversion can write them without quantizing twice. Blocks are
    /// matched to the weights by value, so matrices whose rows the import reorders (qwen2's q and k) simply go unused.
    /// </summary>
    public static LlamaWeights Read(string path, PrequantizedWeights? keepBlocks) => Read(path, keepBlocks, WeightSelection.All);

    /// <summary>
    /// As <see cref="Read(string, PrequantizedWeights?)"/>, reading only the tensors <paramref name="selection"/> names
    /// (each from its own offset), so a node building one slice holds only that slice's weights.
    /// </summary>
    public static LlamaWeights Read(string path, PrequantizedWeights? keepBlocks, WeightSelection selection)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(selection);
        var fileName = Path.GetFileName(path);
        var file = GgufFile.Open(path);
        var architecture = file.Metadata.TryGetValue("general.architecture", out var a) ? a as string : null;
        // llama.cpp's converter permutes llama's Q/K rows to adjacent pairs already; qwen2 and qwen3 keep Hugging Face's
        // rotate-half order (their "neox" rope), so those rows, and qwen3's q/k norm weights, are permuted here.
        var rotateHalf = architecture switch
        {
            "llama" => false,
            "qwen2" or "qwen3" => true,
            _ => throw new ModelFormatException(
                $"{fileName}: general.architecture = {architecture ?? "(missing)"}; expected llama (Llama, Mistral, TinyLlama, SmolLM2), qwen2 " +
                "or qwen3 — this model family is not supported"),
        };
        var hasHeadNorms = architecture == "qwen3";
        var config = ReadConfig(file, fileName, architecture!);
        if (!hasHeadNorms && file.Tensors.FirstOrDefault(t => t.Name.EndsWith("attn_q_norm.weight", StringComparison.Ordinal) || t.Name.EndsWith("attn_k_norm.weight", StringComparison.Ordinal)) is { } headNorm)
        {
            throw new ModelFormatException(
                $"{fileName}: tensor {headNorm.Name} is a per-head query/key RMSNorm, which only the qwen3 architecture has; " +
                $"general.architecture = {architecture} — the file is not a {architecture} model");
        }

        var byName = file.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        bool Has(string name) => byName.ContainsKey(name);
        float[] Read(string name, long rowLength, long rows)
        {
            if (!byName.TryGetValue(name, out var info))
                throw new ModelFormatException($"{fileName}: tensor {name} is missing; expected for a {config.Layers}-layer {architecture} model — the file is incomplete or not a {architecture} model");
            long[] expected = rows == 1 ? [rowLength] : [rowLength, rows];
            if (!info.Dimensions.SequenceEqual(expected))
            {
                throw new ModelFormatException(
                    $"{fileName}: tensor {name} has ggml dimensions [{string.Join(", ", info.Dimensions)}], expected [{string.Join(", ", expected)}] " +
                    "from the metadata; the file is corrupt or its metadata does not match — fetch it again");
            }
            if (keepBlocks is null || !GgufBlockRepacker.CanRepack(info.Type) || rows == 1)
                return file.ReadTensorFloats(info);
            var bytes = file.ReadTensorBytes(info);
            var values = new float[info.ElementCount];
            GgufBlockQuantizer.Decode(info.Type, bytes, values);
            keepBlocks.Add(values, GgufBlockRepacker.Repack(info.Type, bytes, (int)rows, (int)rowLength));
            return values;
        }
        float[] RopeRows(float[] values, int heads, int rowLength) =>
            rotateHalf ? RotaryLayout.HalvesToInterleaved(values, heads, config.HeadSize, rowLength) : values;

        long dim = config.Dim, qDim = config.QDim, kvDim = config.KvDim, hidden = config.HiddenDim;
        // A tied classifier (no output.weight) is the embedding tensor: the head needs it too.
        var tied = !Has("output.weight");
        var embedding = selection.Embedding || (selection.Head && tied) ? Read("token_embd.weight", dim, config.VocabSize) : [];
        var layers = new LayerWeights[config.Layers];
        for (var l = 0; l < layers.Length; l++)
        {
            if (!selection.IncludesLayer(l))
            {
                layers[l] = WeightSelection.SkippedLayer;
                continue;
            }
            var p = $"blk.{l}.";
            var hasBias = Has(p + "attn_q.bias");
            layers[l] = new LayerWeights
            {
                RmsAtt = Read(p + "attn_norm.weight", dim, 1),
                Wq = RopeRows(Read(p + "attn_q.weight", dim, qDim), config.Heads, config.Dim),
                Wk = RopeRows(Read(p + "attn_k.weight", dim, kvDim), config.KvHeads, config.Dim),
                Wv = Read(p + "attn_v.weight", dim, kvDim),
                Wo = Read(p + "attn_output.weight", qDim, dim),
                RmsFfn = Read(p + "ffn_norm.weight", dim, 1),
                W1 = Read(p + "ffn_gate.weight", dim, hidden),
                W2 = Read(p + "ffn_down.weight", hidden, dim),
                W3 = Read(p + "ffn_up.weight", dim, hidden),
                Bq = hasBias ? RopeRows(Read(p + "attn_q.bias", qDim, 1), config.Heads, 1) : null,
                Bk = hasBias ? RopeRows(Read(p + "attn_k.bias", kvDim, 1), config.KvHeads, 1) : null,
                Bv = hasBias ? Read(p + "attn_v.bias", kvDim, 1) : null,
                QNorm = hasHeadNorms ? RopeRows(Read(p + "attn_q_norm.weight", config.HeadSize, 1), 1, 1) : null,
                KNorm = hasHeadNorms ? RopeRows(Read(p + "attn_k_norm.weight", config.HeadSize, 1), 1, 1) : null,
            };
        }
        var rmsFinal = selection.Head ? Read("output_norm.weight", dim, 1) : [];
        // Llama 3's RoPE scaling arrives as one divisor per rotated pair (llama.cpp drops the scaling parameters).
        if (Has("rope_freqs.weight"))
        {
            var factors = Read("rope_freqs.weight", config.HeadSize / 2, 1);
            if (Array.FindIndex(factors, f => !(f > 0) || float.IsInfinity(f)) is var bad and >= 0)
                throw new ModelFormatException($"{fileName}: tensor rope_freqs.weight holds {factors[bad]} at pair {bad}; RoPE factors must be positive and finite — the file is corrupt");
            config = config with { RopeFactors = new RopeFrequencyFactors(factors) };
        }
        // A tied classifier has no tensor of its own; llama.cpp then uses token_embd.weight.
        var classifier = tied ? embedding : selection.Head ? Read("output.weight", dim, config.VocabSize) : [];
        var weights = new LlamaWeights
        {
            Config = config, TokenEmbedding = embedding, Layers = layers, RmsFinal = rmsFinal, Classifier = classifier,
            Selection = selection.IsAll ? null : selection,
        };
        return weights;
    }

    /// <summary>The model's shape from the metadata alone, no tensor read (a node checks a slice against it before reading).</summary>
    public static LlamaConfig ReadConfig(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = GgufFile.Open(path);
        var architecture = file.Metadata.TryGetValue("general.architecture", out var a) ? a as string : null;
        return ReadConfig(file, Path.GetFileName(path), architecture ?? "llama");
    }

    private static LlamaConfig ReadConfig(GgufFile file, string fileName, string architecture)
    {
        var metadata = file.Metadata;
        long? Optional(string key)
        {
            if (!metadata.TryGetValue(architecture + "." + key, out var value))
                return null;
            return value switch
            {
                uint v => v, int v => v, ulong v => (long)v, long v => v, ushort v => v, short v => v, byte v => v, sbyte v => v,
                _ => throw new ModelFormatException($"{fileName}: metadata key {architecture}.{key} is {value.GetType().Name}, expected an integer; the file is corrupt"),
            };
        }
        int Required(string key) => (int)(Optional(key)
            ?? throw new ModelFormatException($"{fileName}: metadata key {architecture}.{key} is missing; it is required for a {architecture} model — convert the model again with a current llama.cpp"));
        float? OptionalFloat(string key) => metadata.TryGetValue(architecture + "." + key, out var value)
            ? value switch
            {
                float f => f,
                double d => (float)d,
                _ => throw new ModelFormatException($"{fileName}: metadata key {architecture}.{key} is {value.GetType().Name}, expected a float; the file is corrupt"),
            }
            : null;

        var dim = Required("embedding_length");
        var heads = Required("attention.head_count");
        var kvHeads = (int)(Optional("attention.head_count_kv") ?? heads);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
        {
            throw new ModelFormatException(
                $"{fileName}: {architecture}.attention.head_count = {heads} and head_count_kv = {kvHeads}: the KV heads must divide the heads; " +
                "the metadata is corrupt");
        }
        // key_length is the head size when it is not embedding_length / head_count (qwen3); llama.cpp omits it otherwise.
        var headSize = (int)(Optional("attention.key_length") ?? (dim % heads == 0 ? dim / heads
            : throw new ModelFormatException(
                $"{fileName}: {architecture}.attention.head_count = {heads} does not divide embedding_length = {dim} and there is no " +
                $"{architecture}.attention.key_length; the metadata is corrupt")));
        if (headSize <= 0 || headSize % 2 != 0)
            throw new ModelFormatException($"{fileName}: head size {headSize} is not a positive even number, but RoPE rotates pairs; the metadata is corrupt");
        if (Optional("attention.value_length") is { } valueLength && valueLength != headSize)
        {
            throw new ModelFormatException(
                $"{fileName}: {architecture}.attention.value_length = {valueLength} differs from the key head size {headSize}; " +
                "EdgeNode's attention needs keys and values of one head size");
        }
        if (Optional("rope.dimension_count") is { } ropeDims && ropeDims != headSize)
        {
            throw new ModelFormatException(
                $"{fileName}: {architecture}.rope.dimension_count = {ropeDims}, expected the head size {headSize}; partial RoPE is not supported");
        }
        if (metadata.TryGetValue(architecture + ".rope.scaling.type", out var scaling) && scaling is string kind && kind != "none")
            throw new ModelFormatException($"{fileName}: {architecture}.rope.scaling.type = {kind}; RoPE scaling in GGUF files is not supported yet — import the Hugging Face folder instead");

        var embedding = file.Tensors.FirstOrDefault(t => t.Name == "token_embd.weight")
            ?? throw new ModelFormatException($"{fileName}: tensor token_embd.weight is missing; the file is not a complete model");
        if (embedding.Dimensions.Count != 2)
            throw new ModelFormatException($"{fileName}: tensor token_embd.weight has {embedding.Dimensions.Count} dimensions, expected 2; the file is corrupt");
        var vocab = (int)embedding.Dimensions[1];

        return new LlamaConfig(dim, Required("feed_forward_length"), Required("block_count"), heads, kvHeads, vocab, Required("context_length"))
        {
            HeadSize = headSize,
            RopeTheta = OptionalFloat("rope.freq_base") ?? 10000f,
            NormEps = OptionalFloat("attention.layer_norm_rms_epsilon") ?? 1e-5f,
        };
    }
}
