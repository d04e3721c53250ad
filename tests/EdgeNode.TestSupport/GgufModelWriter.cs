using System.Text;
using EdgeNode.Models;
using EdgeNode.Models.Gguf;
using EdgeNode.Models.Import;

namespace EdgeNode.TestSupport;

/// <summary>
/// A bare GGUF v3 writer for the files llama.cpp's converter makes and EdgeNode's exporter does not (qwen2 with biases,
/// qwen3 with q/k norms, llama with rope_freqs, K-quant tensors): uint32, float32 and string metadata, tensors encoded by
/// <see cref="GgufBlockQuantizer"/>. No tokenizer.
/// </summary>
public sealed class GgufModelWriter
{
    private const int Alignment = 32;
    private readonly List<(string Key, object Value)> _metadata = [];
    private readonly List<(string Name, long[] Dimensions, GgufTensorType Type, float[] Values)> _tensors = [];

    public GgufModelWriter Set(string key, object value)
    {
        _metadata.Add((key, value));
        return this;
    }

    /// <param name="dimensions">ggml order: row length first.</param>
    public GgufModelWriter Add(string name, float[] values, GgufTensorType type, params long[] dimensions)
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

    /// <summary>
    /// A writer holding the model's metadata and every tensor as llama.cpp's converter lays them out for
    /// <paramref name="architecture"/> (llama, qwen2 or qwen3), matrices in <paramref name="matrixType"/> where rows allow.
    /// The converter permutes llama's Q/K rows to adjacent pairs (EdgeNode's own order) but leaves qwen2/qwen3 in Hugging
    /// Face's rotate-half order, q/k norm weights included; Llama-3 rope scaling becomes a rope_freqs tensor of divisors.
    /// </summary>
    /// <param name="writeKeyLength">Write attention.key_length / value_length, as the converter does whenever config.json
    /// has head_dim; always written when the head size is not dim / heads.</param>
    public static GgufModelWriter ForModel(LlamaWeights weights, string architecture, GgufTensorType matrixType, bool writeKeyLength = false)
    {
        var c = weights.Config;
        var rotateHalfRows = architecture != "llama";
        var writer = new GgufModelWriter()
            .Set("general.architecture", architecture)
            .Set("general.alignment", (uint)Alignment)
            .Set(architecture + ".context_length", (uint)c.MaxSeqLen)
            .Set(architecture + ".embedding_length", (uint)c.Dim)
            .Set(architecture + ".block_count", (uint)c.Layers)
            .Set(architecture + ".feed_forward_length", (uint)c.HiddenDim)
            .Set(architecture + ".attention.head_count", (uint)c.Heads)
            .Set(architecture + ".attention.head_count_kv", (uint)c.KvHeads)
            .Set(architecture + ".attention.layer_norm_rms_epsilon", c.NormEps)
            .Set(architecture + ".rope.freq_base", c.RopeTheta);
        if (architecture == "llama")
            writer.Set(architecture + ".rope.dimension_count", (uint)c.HeadSize);
        if (writeKeyLength || c.HasExplicitHeadSize)
        {
            writer.Set(architecture + ".attention.key_length", (uint)c.HeadSize)
                .Set(architecture + ".attention.value_length", (uint)c.HeadSize);
        }
        GgufTensorType Matrix(long rowLength)
        {
            var block = matrixType is GgufTensorType.Q4_K or GgufTensorType.Q6_K ? 256 : matrixType is GgufTensorType.Q8_0 or GgufTensorType.Q4_0 ? 32 : 1;
            return rowLength % block == 0 ? matrixType : GgufTensorType.F32;
        }
        float[] Rope(float[] values, int heads, int rowLength) =>
            rotateHalfRows ? RotaryLayout.InterleavedToHalves(values, heads, c.HeadSize, rowLength) : values;
        writer.Add("token_embd.weight", weights.TokenEmbedding, Matrix(c.Dim), c.Dim, c.VocabSize);
        if (c.RopeScaling is { } scaling)
            writer.Add("rope_freqs.weight", Llama3RopeFactors(c, scaling), GgufTensorType.F32, c.HeadSize / 2);
        for (var l = 0; l < c.Layers; l++)
        {
            var w = weights.Layers[l];
            var p = $"blk.{l}.";
            writer.Add(p + "attn_norm.weight", w.RmsAtt, GgufTensorType.F32, c.Dim)
                .Add(p + "attn_q.weight", Rope(w.Wq, c.Heads, c.Dim), Matrix(c.Dim), c.Dim, c.QDim)
                .Add(p + "attn_k.weight", Rope(w.Wk, c.KvHeads, c.Dim), Matrix(c.Dim), c.Dim, c.KvDim)
                .Add(p + "attn_v.weight", w.Wv, Matrix(c.Dim), c.Dim, c.KvDim)
                .Add(p + "attn_output.weight", w.Wo, Matrix(c.QDim), c.QDim, c.Dim)
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
                writer.Add(p + "attn_q.bias", Rope(w.Bq, c.Heads, 1), GgufTensorType.F32, c.QDim)
                    .Add(p + "attn_k.bias", Rope(w.Bk!, c.KvHeads, 1), GgufTensorType.F32, c.KvDim)
                    .Add(p + "attn_v.bias", w.Bv!, GgufTensorType.F32, c.KvDim);
            }
            if (w.QNorm is not null)
            {
                writer.Add(p + "attn_q_norm.weight", Rope(w.QNorm, 1, 1), GgufTensorType.F32, c.HeadSize)
                    .Add(p + "attn_k_norm.weight", Rope(w.KNorm!, 1, 1), GgufTensorType.F32, c.HeadSize);
            }
        }
        writer.Add("output_norm.weight", weights.RmsFinal, GgufTensorType.F32, c.Dim);
        if (!weights.SharedClassifier)
            writer.Add("output.weight", weights.Classifier, Matrix(c.Dim), c.Dim, c.VocabSize);
        return writer;
    }

    /// <summary>
    /// The divisor per rotated pair that llama.cpp's converter writes for Hugging Face rope_type "llama3", transcribed from
    /// its float32 computation: 1 for short wavelengths, the factor for long ones, 1 / ((1 - smooth) / factor + smooth) between.
    /// </summary>
    private static float[] Llama3RopeFactors(LlamaConfig c, RopeScaling s)
    {
        var factors = new float[c.HeadSize / 2];
        var lowWavelength = s.OriginalMaxPositionEmbeddings / (double)s.LowFreqFactor;
        var highWavelength = s.OriginalMaxPositionEmbeddings / (double)s.HighFreqFactor;
        for (var i = 0; i < factors.Length; i++)
        {
            var frequency = 1f / MathF.Pow(c.RopeTheta, 2 * i / (float)c.HeadSize);
            var wavelength = (float)(2 * Math.PI) / frequency;
            if (wavelength < highWavelength)
            {
                factors[i] = 1f;
            }
            else if (wavelength > lowWavelength)
            {
                factors[i] = s.Factor;
            }
            else
            {
                var smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = 1f / ((1f - smooth) / s.Factor + smooth);
            }
        }
        return factors;
    }
}
