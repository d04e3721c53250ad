using System.Text.Json;
using EdgeNode.Models;
using EdgeNode.Models.Import;
using EdgeNode.Models.Safetensors;

namespace EdgeNode.TestSupport;

/// <summary>
/// Writes a Hugging Face model folder from weights in EdgeNode's layout: Wq/Wk (and biases, and q/k norm weights) go back
/// to rotate-half order, tensors get Hugging Face names. Returns the tensors as written, for a rotate-half forward pass to
/// run on. config.json gets head_dim when <paramref name="writeHeadDim"/> is set or the head size is not dim / heads.
/// </summary>
public static class HuggingFaceFolderBuilder
{
    public static Dictionary<string, float[]> Write(string folder, LlamaWeights weights, string architecture,
        Action<Utf8JsonWriter>? extraConfig = null, bool tie = false, string dtype = "F32", int shards = 1, bool writeLmHead = true,
        bool writeHeadDim = false)
    {
        var c = weights.Config;
        var tensors = new List<(string Name, float[] Values, long[] Shape)>();
        void Add(string name, float[] values, params long[] shape) => tensors.Add((name, values, shape));
        long dim = c.Dim, q = c.QDim, kv = c.KvDim, hidden = c.HiddenDim;
        Add("model.embed_tokens.weight", weights.TokenEmbedding, c.VocabSize, dim);
        for (var l = 0; l < c.Layers; l++)
        {
            var w = weights.Layers[l];
            var p = $"model.layers.{l}.";
            Add(p + "input_layernorm.weight", w.RmsAtt, dim);
            Add(p + "self_attn.q_proj.weight", RotaryLayout.InterleavedToHalves(w.Wq, c.Heads, c.HeadSize, c.Dim), q, dim);
            Add(p + "self_attn.k_proj.weight", RotaryLayout.InterleavedToHalves(w.Wk, c.KvHeads, c.HeadSize, c.Dim), kv, dim);
            Add(p + "self_attn.v_proj.weight", w.Wv, kv, dim);
            if (w.Bq is not null)
            {
                Add(p + "self_attn.q_proj.bias", RotaryLayout.InterleavedToHalves(w.Bq, c.Heads, c.HeadSize, 1), q);
                Add(p + "self_attn.k_proj.bias", RotaryLayout.InterleavedToHalves(w.Bk!, c.KvHeads, c.HeadSize, 1), kv);
                Add(p + "self_attn.v_proj.bias", w.Bv!, kv);
            }
            if (w.QNorm is not null)
            {
                Add(p + "self_attn.q_norm.weight", RotaryLayout.InterleavedToHalves(w.QNorm, 1, c.HeadSize, 1), c.HeadSize);
                Add(p + "self_attn.k_norm.weight", RotaryLayout.InterleavedToHalves(w.KNorm!, 1, c.HeadSize, 1), c.HeadSize);
            }
            Add(p + "self_attn.o_proj.weight", w.Wo, dim, q);
            Add(p + "post_attention_layernorm.weight", w.RmsFfn, dim);
            Add(p + "mlp.gate_proj.weight", w.W1, hidden, dim);
            Add(p + "mlp.up_proj.weight", w.W3, hidden, dim);
            Add(p + "mlp.down_proj.weight", w.W2, dim, hidden);
        }
        Add("model.norm.weight", weights.RmsFinal, dim);
        if (!tie && writeLmHead)
            Add("lm_head.weight", weights.Classifier, c.VocabSize, dim);

        if (shards == 1)
        {
            var writer = new SafetensorsWriter().AddMetadata("format", "pt");
            foreach (var (name, values, shape) in tensors)
                writer.Add(name, values, shape, dtype);
            writer.Write(Path.Combine(folder, HuggingFaceCheckpoint.SingleFileName));
        }
        else
        {
            var map = new Dictionary<string, string>();
            var perShard = (tensors.Count + shards - 1) / shards;
            for (var s = 0; s < shards; s++)
            {
                var shardName = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
                var writer = new SafetensorsWriter();
                foreach (var (name, values, shape) in tensors.Skip(s * perShard).Take(perShard))
                {
                    writer.Add(name, values, shape, dtype);
                    map[name] = shardName;
                }
                writer.Write(Path.Combine(folder, shardName));
            }
            using var index = File.Create(Path.Combine(folder, HuggingFaceCheckpoint.IndexFileName));
            using var json = new Utf8JsonWriter(index);
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", 0);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, shard) in map)
                json.WriteString(name, shard);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        using (var configFile = File.Create(Path.Combine(folder, HuggingFaceConfig.FileName)))
        using (var json = new Utf8JsonWriter(configFile, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("architectures");
            json.WriteStringValue(architecture);
            json.WriteEndArray();
            json.WriteNumber("hidden_size", c.Dim);
            json.WriteNumber("intermediate_size", c.HiddenDim);
            json.WriteNumber("num_hidden_layers", c.Layers);
            json.WriteNumber("num_attention_heads", c.Heads);
            json.WriteNumber("num_key_value_heads", c.KvHeads);
            if (writeHeadDim || c.HasExplicitHeadSize)
                json.WriteNumber("head_dim", c.HeadSize);
            json.WriteNumber("vocab_size", c.VocabSize);
            json.WriteNumber("max_position_embeddings", c.MaxSeqLen);
            json.WriteNumber("rope_theta", c.RopeTheta);
            json.WriteNumber("rms_norm_eps", c.NormEps);
            json.WriteBoolean("tie_word_embeddings", tie);
            json.WriteString("hidden_act", "silu");
            extraConfig?.Invoke(json);
            json.WriteEndObject();
        }
        return tensors.ToDictionary(t => t.Name, t => t.Values);
    }
}
