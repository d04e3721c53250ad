using System.Text.Json;
using EdgeNode.Models;
using EdgeNode.Models.Synthetic;

namespace EdgeNode.TestSupport;

/// <summary>
/// One real model's per-layer shape and features, for seeded random-weight checkpoints that import the way the real
/// model does: the Hugging Face architecture name and config keys, the GGUF architecture llama.cpp gives it.
/// </summary>
/// <param name="Name">The real model whose layer shape this is.</param>
/// <param name="Config">Layer shape, head size, RoPE base and scaling, norm epsilon — with the test's own layer count,
/// vocabulary and context.</param>
/// <param name="Tied">The classifier shares the embedding.</param>
/// <param name="Biases">q/k/v projection biases (Qwen2).</param>
/// <param name="HeadNorms">Per-head q/k RMSNorm before RoPE (Qwen3).</param>
/// <param name="HeadDimInConfig">The real config.json states head_dim (so llama.cpp writes attention.key_length).</param>
public sealed record ModelFamily(string Name, string HuggingFaceArchitecture, string GgufArchitecture, LlamaConfig Config,
    bool Tied, bool Biases = false, bool HeadNorms = false, bool HeadDimInConfig = false)
{
    /// <summary>
    /// Seeded random weights with this family's tensors: the synthetic generator's matrices, plus biases and q/k norm
    /// weights drawn around their trained scale (norm weights away from 1, so a wrong permutation or a skipped norm shows).
    /// </summary>
    public LlamaWeights GenerateWeights(ulong seed)
    {
        var generated = SyntheticCheckpoints.Generate(Config, seed, Tied);
        if (!Biases && !HeadNorms)
            return generated;
        var random = new Random((int)(seed % int.MaxValue));
        float[] Uniform(int count, float low, float high) =>
            Enumerable.Range(0, count).Select(_ => low + (float)random.NextDouble() * (high - low)).ToArray();
        var c = Config;
        var layers = generated.Layers.Select(w => new LayerWeights
        {
            RmsAtt = w.RmsAtt, Wq = w.Wq, Wk = w.Wk, Wv = w.Wv, Wo = w.Wo, RmsFfn = w.RmsFfn, W1 = w.W1, W2 = w.W2, W3 = w.W3,
            Bq = Biases ? Uniform(c.QDim, -0.5f, 0.5f) : null,
            Bk = Biases ? Uniform(c.KvDim, -0.5f, 0.5f) : null,
            Bv = Biases ? Uniform(c.KvDim, -0.5f, 0.5f) : null,
            QNorm = HeadNorms ? Uniform(c.HeadSize, 0.5f, 1.5f) : null,
            KNorm = HeadNorms ? Uniform(c.HeadSize, 0.5f, 1.5f) : null,
        }).ToArray();
        return new LlamaWeights
        {
            Config = c, TokenEmbedding = generated.TokenEmbedding, Layers = layers, RmsFinal = generated.RmsFinal, Classifier = generated.Classifier,
        };
    }

    /// <summary>config.json keys beyond the shape <see cref="HuggingFaceFolderBuilder"/> writes: Llama 3's rope_scaling.</summary>
    public void WriteExtraConfig(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (Config.RopeScaling is not { } scaling)
            return;
        json.WriteStartObject("rope_scaling");
        json.WriteString("rope_type", "llama3");
        json.WriteNumber("factor", scaling.Factor);
        json.WriteNumber("low_freq_factor", scaling.LowFreqFactor);
        json.WriteNumber("high_freq_factor", scaling.HighFreqFactor);
        json.WriteNumber("original_max_position_embeddings", scaling.OriginalMaxPositionEmbeddings);
        json.WriteEndObject();
    }

    public override string ToString() => Name;
}
