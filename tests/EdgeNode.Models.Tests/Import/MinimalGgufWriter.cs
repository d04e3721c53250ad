using System.Text;
using EdgeNode.Models.Gguf;

namespace EdgeNode.Models.Tests.Import;

/// <summary>
/// A bare GGUF v3 writer for files the exporter does not make (qwen2 with biases, K-quant tensors): uint32, float32
/// and string metadata, tensors encoded by <see cref="GgufBlockQuantizer"/>. No tokenizer.
/// </summary>
internal sealed class MinimalGgufWriter
{
    private const int Alignment = 32;
    private readonly List<(string Key, object Value)> _metadata = [];
    private readonly List<(string Name, long[] Dimensions, GgufTensorType Type, float[] Values)> _tensors = [];

    public MinimalGgufWriter Set(string key, object value)
    {
        _metadata.Add((key, value));
        return this;
    }

    /// <param name="dimensions">ggml order: row length first.</param>
    public MinimalGgufWriter Add(string name, float[] values, GgufTensorType type, params long[] dimensions)
    {
        _tensors.Add((name, dimensions, type, values));
        return this;
    }

    public void Write(string path)
    {
        using var stream = File.Create(path);
        using var output = new BinaryWriter(stream);
        void String(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            output.Write((ulong)bytes.Length);
            output.Write(bytes);
        }
        void Pad()
        {
            while (stream.Position % Alignment != 0)
                output.Write((byte)0);
        }
        output.Write("GGUF"u8);
        output.Write(3u);
        output.Write((ulong)_tensors.Count);
        output.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            String(key);
            switch (value)
            {
                case uint u: output.Write(4u); output.Write(u); break;
                case float f: output.Write(6u); output.Write(f); break;
                case string s: output.Write(8u); String(s); break;
                default: throw new ArgumentException($"metadata {key}: {value.GetType().Name} is not supported here");
            }
        }
        long offset = 0;
        var encoded = new List<byte[]>();
        foreach (var (name, dimensions, type, values) in _tensors)
        {
            var bytes = new byte[GgufBlockQuantizer.ByteCount(type, values.Length)];
            GgufBlockQuantizer.Encode(type, values, bytes);
            encoded.Add(bytes);
            String(name);
            output.Write((uint)dimensions.Length);
            foreach (var d in dimensions)
                output.Write((ulong)d);
            output.Write((uint)type);
            output.Write((ulong)offset);
            offset += (bytes.Length + Alignment - 1) / Alignment * Alignment;
        }
        Pad();
        foreach (var bytes in encoded)
        {
            output.Write(bytes);
            Pad();
        }
    }

    /// <summary>A writer holding the model's metadata and every tensor, matrices in <paramref name="matrixType"/> where rows allow.</summary>
    public static MinimalGgufWriter ForModel(LlamaWeights weights, string architecture, GgufTensorType matrixType, bool rotateHalfRows)
    {
        var c = weights.Config;
        var writer = new MinimalGgufWriter()
            .Set("general.architecture", architecture)
            .Set("general.alignment", (uint)Alignment)
            .Set(architecture + ".context_length", (uint)c.MaxSeqLen)
            .Set(architecture + ".embedding_length", (uint)c.Dim)
            .Set(architecture + ".block_count", (uint)c.Layers)
            .Set(architecture + ".feed_forward_length", (uint)c.HiddenDim)
            .Set(architecture + ".rope.dimension_count", (uint)c.HeadSize)
            .Set(architecture + ".attention.head_count", (uint)c.Heads)
            .Set(architecture + ".attention.head_count_kv", (uint)c.KvHeads)
            .Set(architecture + ".attention.layer_norm_rms_epsilon", c.NormEps)
            .Set(architecture + ".rope.freq_base", c.RopeTheta);
        GgufTensorType Matrix(long rowLength)
        {
            var block = matrixType is GgufTensorType.Q4_K or GgufTensorType.Q6_K ? 256 : matrixType is GgufTensorType.Q8_0 or GgufTensorType.Q4_0 ? 32 : 1;
            return rowLength % block == 0 ? matrixType : GgufTensorType.F32;
        }
        float[] Rope(float[] values, int heads, int rowLength) =>
            rotateHalfRows ? EdgeNode.Models.Import.RotaryLayout.InterleavedToHalves(values, heads, c.HeadSize, rowLength) : values;
        writer.Add("token_embd.weight", weights.TokenEmbedding, Matrix(c.Dim), c.Dim, c.VocabSize);
        for (var l = 0; l < c.Layers; l++)
        {
            var w = weights.Layers[l];
            var p = $"blk.{l}.";
            writer.Add(p + "attn_norm.weight", w.RmsAtt, GgufTensorType.F32, c.Dim)
                .Add(p + "attn_q.weight", Rope(w.Wq, c.Heads, c.Dim), Matrix(c.Dim), c.Dim, c.Dim)
                .Add(p + "attn_k.weight", Rope(w.Wk, c.KvHeads, c.Dim), Matrix(c.Dim), c.Dim, c.KvDim)
                .Add(p + "attn_v.weight", w.Wv, Matrix(c.Dim), c.Dim, c.KvDim)
                .Add(p + "attn_output.weight", w.Wo, Matrix(c.Dim), c.Dim, c.Dim)
                .Add(p + "ffn_norm.weight", w.RmsFfn, GgufTensorType.F32, c.Dim)
                .Add(p + "ffn_gate.weight", w.W1, Matrix(c.Dim), c.Dim, c.HiddenDim)
                .Add(p + "ffn_down.weight", w.W2, matrixType == GgufTensorType.Q4_K ? Matrix(c.HiddenDim) switch
                {
                    GgufTensorType.Q4_K => GgufTensorType.Q6_K, // as llama.cpp's Q4_K_M keeps some matrices at 6 bits
                    var t => t,
                } : Matrix(c.HiddenDim), c.HiddenDim, c.Dim)
                .Add(p + "ffn_up.weight", w.W3, Matrix(c.Dim), c.Dim, c.HiddenDim);
            if (w.Bq is not null)
            {
                writer.Add(p + "attn_q.bias", Rope(w.Bq, c.Heads, 1), GgufTensorType.F32, c.Dim)
                    .Add(p + "attn_k.bias", Rope(w.Bk!, c.KvHeads, 1), GgufTensorType.F32, c.KvDim)
                    .Add(p + "attn_v.bias", w.Bv!, GgufTensorType.F32, c.KvDim);
            }
        }
        writer.Add("output_norm.weight", weights.RmsFinal, GgufTensorType.F32, c.Dim);
        if (!weights.SharedClassifier)
            writer.Add("output.weight", weights.Classifier, Matrix(c.Dim), c.Dim, c.VocabSize);
        return writer;
    }
}
