using System.Runtime.InteropServices;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Models.Gguf;

/// <summary>
/// Writes a model as GGUF v3 for llama.cpp's "llama" architecture, tokenizer embedded. llama2.c's wq/wk rows are
/// already in the interleaved-pair order llama.cpp's rope expects, so every tensor is written as is (checked against
/// GGUF copies made by an independent converter: the tensor bytes are identical).
/// </summary>
public static class GgufExporter
{
    public const int Alignment = 32;

    // llama.cpp's llama_ftype numbers for general.file_type ("mostly" this type).
    private static uint FileType(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => 0,
        GgufTensorType.F16 => 1,
        GgufTensorType.Q4_0 => 2,
        GgufTensorType.Q8_0 => 7,
        _ => throw new NotSupportedException($"tensor type {type} is not supported"),
    };

    // SentencePiece token types as llama.cpp reads them.
    private const int NormalToken = 1;
    private const int UnknownToken = 2;
    private const int ControlToken = 3;
    private const int ByteToken = 6;

    /// <param name="modelName">general.name; defaults to the output file name without its extension.</param>
    public static void Export(LlamaWeights weights, Llama2cTokenizer tokenizer, string path, GgufTensorType matrixType,
        IProgress<double>? progress = null, string? modelName = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(path);
        var config = weights.Config;
        // The llama tensor set written here has no q/k/v bias tensors and no rope_freqs table: refuse rather
        // than write a file that silently computes a different model.
        if (weights.Layers.Any(l => l.Bq is not null || l.Bk is not null || l.Bv is not null || l.QNorm is not null || l.KNorm is not null) || config.RopeScaling is not null || config.RopeFactors is not null)
            throw new ArgumentException("this model has q/k/v biases, q/k norms or rope scaling, which the GGUF llama export does not carry", nameof(weights));
        if (tokenizer.VocabSize != config.VocabSize)
            throw new ArgumentException($"the tokenizer holds {tokenizer.VocabSize} tokens but the model's vocab_size is {config.VocabSize}", nameof(tokenizer));

        var tensors = PlanTensors(weights, matrixType);
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var output = new BinaryWriter(stream);
        var header = new GgufHeaderWriter(output);

        var (tokens, scores, types) = Vocabulary(tokenizer);
        header.WritePreamble(tensors.Count, metadataCount: 0); // patched below, once the keys are counted
        header.Add("general.architecture", "llama");
        header.Add("general.name", modelName ?? Path.GetFileNameWithoutExtension(path));
        header.Add("general.file_type", FileType(matrixType));
        header.Add("general.alignment", (uint)Alignment);
        header.Add("llama.context_length", (uint)config.MaxSeqLen);
        header.Add("llama.embedding_length", (uint)config.Dim);
        header.Add("llama.block_count", (uint)config.Layers);
        header.Add("llama.feed_forward_length", (uint)config.HiddenDim);
        header.Add("llama.rope.dimension_count", (uint)config.HeadSize);
        header.Add("llama.attention.head_count", (uint)config.Heads);
        header.Add("llama.attention.head_count_kv", (uint)config.KvHeads);
        if (config.HasExplicitHeadSize)
        {
            header.Add("llama.attention.key_length", (uint)config.HeadSize);
            header.Add("llama.attention.value_length", (uint)config.HeadSize);
        }
        header.Add("llama.attention.layer_norm_rms_epsilon", config.NormEps);
        header.Add("llama.rope.freq_base", config.RopeTheta);
        header.Add("llama.vocab_size", (uint)config.VocabSize);
        header.Add("tokenizer.ggml.model", "llama");
        header.Add("tokenizer.ggml.tokens", tokens);
        header.Add("tokenizer.ggml.scores", scores);
        header.Add("tokenizer.ggml.token_type", types);
        header.Add("tokenizer.ggml.bos_token_id", (uint)Llama2cTokenizer.Bos);
        header.Add("tokenizer.ggml.eos_token_id", (uint)Llama2cTokenizer.Eos);
        header.Add("tokenizer.ggml.unknown_token_id", 0u);
        var metadataCount = header.MetadataCount;
        foreach (var (info, _) in tensors)
            header.WriteTensorInfo(info);
        output.Flush();
        var headerEnd = stream.Position;
        stream.Position = GgufHeaderWriter.MetadataCountOffset;
        output.Write((ulong)metadataCount);
        output.Flush();
        stream.Position = headerEnd;
        Pad(stream);

        var total = tensors.Sum(t => t.Info.ByteCount);
        long written = 0;
        byte[] buffer = [];
        foreach (var (info, values) in tensors)
        {
            if (info.Type == GgufTensorType.F32)
            {
                stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else
            {
                if (buffer.LongLength < info.ByteCount)
                    buffer = new byte[info.ByteCount];
                var encoded = buffer.AsSpan(0, (int)info.ByteCount);
                GgufBlockQuantizer.Encode(info.Type, values, encoded);
                stream.Write(encoded);
            }
            Pad(stream);
            written += info.ByteCount;
            progress?.Report((double)written / total);
        }
    }

    /// <summary>Names, shapes, types and data offsets of every tensor, in llama.cpp's usual order.</summary>
    private static List<(GgufTensorInfo Info, float[] Values)> PlanTensors(LlamaWeights weights, GgufTensorType matrixType)
    {
        var c = weights.Config;
        var planned = new List<(GgufTensorInfo, float[])>();
        long offset = 0;
        void Add(string name, float[] values, GgufTensorType type, params long[] dimensions)
        {
            var info = new GgufTensorInfo(name, dimensions, type, offset);
            planned.Add((info, values));
            offset += AlignUp(info.ByteCount);
        }
        // Block formats need whole 32-value blocks along each row; other matrices stay F32, as llama.cpp's own
        // converter leaves them. F16 has no blocks and applies to every matrix. Norm vectors always stay F32.
        GgufTensorType MatrixType(long rowLength) =>
            GgufBlockQuantizer.IsBlockType(matrixType) && rowLength % GgufBlockQuantizer.BlockSize != 0 ? GgufTensorType.F32 : matrixType;

        Add("token_embd.weight", weights.TokenEmbedding, MatrixType(c.Dim), c.Dim, c.VocabSize);
        for (var l = 0; l < c.Layers; l++)
        {
            var w = weights.Layers[l];
            var prefix = $"blk.{l}.";
            Add(prefix + "attn_norm.weight", w.RmsAtt, GgufTensorType.F32, c.Dim);
            Add(prefix + "attn_q.weight", w.Wq, MatrixType(c.Dim), c.Dim, c.QDim);
            Add(prefix + "attn_k.weight", w.Wk, MatrixType(c.Dim), c.Dim, c.KvDim);
            Add(prefix + "attn_v.weight", w.Wv, MatrixType(c.Dim), c.Dim, c.KvDim);
            Add(prefix + "attn_output.weight", w.Wo, MatrixType(c.QDim), c.QDim, c.Dim);
            Add(prefix + "ffn_norm.weight", w.RmsFfn, GgufTensorType.F32, c.Dim);
            Add(prefix + "ffn_gate.weight", w.W1, MatrixType(c.Dim), c.Dim, c.HiddenDim);
            Add(prefix + "ffn_down.weight", w.W2, MatrixType(c.HiddenDim), c.HiddenDim, c.Dim);
            Add(prefix + "ffn_up.weight", w.W3, MatrixType(c.Dim), c.Dim, c.HiddenDim);
        }
        Add("output_norm.weight", weights.RmsFinal, GgufTensorType.F32, c.Dim);
        // A tied classifier has no tensor of its own: llama.cpp falls back to token_embd.weight.
        if (!weights.SharedClassifier)
            Add("output.weight", weights.Classifier, MatrixType(c.Dim), c.Dim, c.VocabSize);
        return planned;
    }

    /// <summary>
    /// Undoes llama2.c's tokenizer export: spaces back to SentencePiece's U+2581, BOS/EOS back to their bare names,
    /// and the token type SentencePiece would report.
    /// </summary>
    private static (string[] Tokens, float[] Scores, int[] Types) Vocabulary(Llama2cTokenizer tokenizer)
    {
        var n = tokenizer.VocabSize;
        var tokens = new string[n];
        var scores = new float[n];
        var types = new int[n];
        for (var id = 0; id < n; id++)
        {
            scores[id] = tokenizer.Score(id);
            var piece = tokenizer.Piece(id);
            (tokens[id], types[id]) = id switch
            {
                Llama2cTokenizer.Bos => ("<s>", ControlToken),
                Llama2cTokenizer.Eos => ("</s>", ControlToken),
                0 when piece == "<unk>" => (piece, UnknownToken),
                _ when tokenizer.IsByteFallback(id) => (piece, ByteToken),
                _ => (piece.Replace(' ', '\u2581'), NormalToken),
            };
        }
        return (tokens, scores, types);
    }

    private static long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream stream)
    {
        var padding = (int)(AlignUp(stream.Position) - stream.Position);
        Span<byte> zeros = stackalloc byte[Alignment];
        stream.Write(zeros[..padding]);
    }
}
