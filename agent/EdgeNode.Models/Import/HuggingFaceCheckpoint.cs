using System.Text.Json;
using EdgeNode.Models.Safetensors;

namespace EdgeNode.Models.Import;

/// <summary>
/// Reads a Hugging Face Llama-family model folder (config.json plus model.safetensors, or shards listed by
/// model.safetensors.index.json) into EdgeNode's float32 weights: llama2.c names, interleaved-pair RoPE row order.
/// </summary>
public static class HuggingFaceCheckpoint
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    public static LlamaWeights Read(string folder) => Read(folder, WeightSelection.All);

    /// <summary>
    /// Reads only the tensors <paramref name="selection"/> names (each from its offset in its shard), so a node building
    /// one slice holds only that slice's weights.
    /// </summary>
    public static LlamaWeights Read(string folder, WeightSelection selection)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(selection);
        var config = HuggingFaceConfig.Read(Path.Combine(folder, HuggingFaceConfig.FileName));
        var tensors = OpenTensors(folder, out var source);
        return Load(config, tensors, source, selection);
    }

    /// <summary>Every tensor name mapped to the file that holds it.</summary>
    /// <param name="source">The file that lists the tensors (the index or the single file), for error messages.</param>
    private static Dictionary<string, SafetensorsFile> OpenTensors(string folder, out string source)
    {
        var byName = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var indexPath = Path.Combine(folder, IndexFileName);
        var singlePath = Path.Combine(folder, SingleFileName);
        source = File.Exists(indexPath) ? IndexFileName : SingleFileName;
        if (File.Exists(indexPath))
        {
            var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            try
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
                if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                    throw new ModelFormatException($"{IndexFileName}: no weight_map object; fetch the index file again");
                foreach (var entry in map.EnumerateObject())
                {
                    var shardName = entry.Value.GetString() ?? "";
                    if (shardName.Length == 0 || Path.GetFileName(shardName) != shardName)
                        throw new ModelFormatException($"{IndexFileName}: tensor {entry.Name} maps to \"{shardName}\", expected a file name in the model folder; fetch the index file again");
                    if (!shards.TryGetValue(shardName, out var shard))
                    {
                        var shardPath = Path.Combine(folder, shardName);
                        if (!File.Exists(shardPath))
                            throw new ModelFormatException($"{IndexFileName}: tensor {entry.Name} is in shard {shardName}, which is not in {folder}; fetch every shard the index lists");
                        shards[shardName] = shard = SafetensorsFile.Open(shardPath);
                    }
                    byName[entry.Name] = shard;
                }
            }
            catch (JsonException e)
            {
                throw new ModelFormatException($"{IndexFileName}: not valid JSON ({e.Message}); fetch it again", e);
            }
        }
        else if (File.Exists(singlePath))
        {
            var file = SafetensorsFile.Open(singlePath);
            foreach (var tensor in file.Tensors)
                byName[tensor.Name] = file;
        }
        else
        {
            throw new ModelFormatException(
                $"{folder}: neither {SingleFileName} nor {IndexFileName} is there; download the model's safetensors weights " +
                "(PyTorch .bin checkpoints are not supported)");
        }
        return byName;
    }

    private static LlamaWeights Load(HuggingFaceConfig hf, Dictionary<string, SafetensorsFile> tensors, string source, WeightSelection selection)
    {
        var c = hf.Model;
        float[] Read(string name, params long[] shape)
        {
            if (!tensors.TryGetValue(name, out var file))
            {
                throw new ModelFormatException(
                    $"{source}: tensor {name} is missing; expected by {hf.Family} with this config.json — " +
                    "the weights do not match the config or a shard is missing; fetch the full model again");
            }
            var info = file.Tensor(name);
            if (!info.Shape.SequenceEqual(shape))
            {
                throw new ModelFormatException(
                    $"{Path.GetFileName(file.Path)}: tensor {name} has shape {info.DescribeShape()}, expected [{string.Join(", ", shape)}] " +
                    "from config.json; the weights do not belong to this config — fetch the model again");
            }
            return file.ReadFloats(name);
        }

        foreach (var name in tensors.Keys)
        {
            if (hf.Family != HuggingFaceFamily.Qwen3 && (name.EndsWith(".q_norm.weight", StringComparison.Ordinal) || name.EndsWith(".k_norm.weight", StringComparison.Ordinal)))
            {
                throw new ModelFormatException(
                    $"{Path.GetFileName(tensors[name].Path)}: tensor {name} is a per-head query/key RMSNorm, which only Qwen3ForCausalLM has; " +
                    $"config.json says {hf.Family} — the weights do not belong to this config");
            }
            if (name.EndsWith(".o_proj.bias", StringComparison.Ordinal) || (name.Contains(".mlp.", StringComparison.Ordinal) && name.EndsWith(".bias", StringComparison.Ordinal)))
            {
                throw new ModelFormatException(
                    $"{Path.GetFileName(tensors[name].Path)}: tensor {name} is a bias EdgeNode's graphs do not have (only q/k/v biases are " +
                    "supported); this model is not supported");
            }
        }

        long dim = c.Dim, qDim = c.QDim, kvDim = c.KvDim, hidden = c.HiddenDim, vocab = c.VocabSize;
        // A tied classifier is the embedding tensor: the head needs it too.
        var embedding = selection.Embedding || (selection.Head && hf.TieWordEmbeddings) ? Read("model.embed_tokens.weight", vocab, dim) : [];
        var layers = new LayerWeights[c.Layers];
        for (var l = 0; l < layers.Length; l++)
        {
            if (!selection.IncludesLayer(l))
            {
                layers[l] = WeightSelection.SkippedLayer;
                continue;
            }
            var prefix = $"model.layers.{l}.";
            var attention = prefix + "self_attn.";
            // Qwen2 always has q/k/v biases; Llama has them when attention_bias is set. Either way they are in the file.
            var hasBias = tensors.ContainsKey(attention + "q_proj.bias");
            if (hf.Family == HuggingFaceFamily.Qwen2 && !hasBias)
                throw new ModelFormatException($"{source}: tensor {attention}q_proj.bias is missing; Qwen2 has q/k/v biases — fetch the full model again");
            // The norm weights act on a head's dimensions, so they follow the same rotate-half → interleaved permutation as the rows.
            var hasHeadNorms = hf.Family == HuggingFaceFamily.Qwen3;
            layers[l] = new LayerWeights
            {
                RmsAtt = Read(prefix + "input_layernorm.weight", dim),
                Wq = RotaryLayout.HalvesToInterleaved(Read(attention + "q_proj.weight", qDim, dim), c.Heads, c.HeadSize, c.Dim),
                Wk = RotaryLayout.HalvesToInterleaved(Read(attention + "k_proj.weight", kvDim, dim), c.KvHeads, c.HeadSize, c.Dim),
                Wv = Read(attention + "v_proj.weight", kvDim, dim),
                Wo = Read(attention + "o_proj.weight", dim, qDim),
                RmsFfn = Read(prefix + "post_attention_layernorm.weight", dim),
                W1 = Read(prefix + "mlp.gate_proj.weight", hidden, dim),
                W2 = Read(prefix + "mlp.down_proj.weight", dim, hidden),
                W3 = Read(prefix + "mlp.up_proj.weight", hidden, dim),
                Bq = hasBias ? RotaryLayout.HalvesToInterleaved(Read(attention + "q_proj.bias", qDim), c.Heads, c.HeadSize, 1) : null,
                Bk = hasBias ? RotaryLayout.HalvesToInterleaved(Read(attention + "k_proj.bias", kvDim), c.KvHeads, c.HeadSize, 1) : null,
                Bv = hasBias ? Read(attention + "v_proj.bias", kvDim) : null,
                QNorm = hasHeadNorms ? RotaryLayout.HalvesToInterleaved(Read(attention + "q_norm.weight", c.HeadSize), 1, c.HeadSize, 1) : null,
                KNorm = hasHeadNorms ? RotaryLayout.HalvesToInterleaved(Read(attention + "k_norm.weight", c.HeadSize), 1, c.HeadSize, 1) : null,
            };
        }
        var rmsFinal = selection.Head ? Read("model.norm.weight", dim) : [];

        // Tied checkpoints usually omit lm_head; some still ship a copy, which the tie makes redundant.
        float[] classifier;
        if (hf.TieWordEmbeddings)
            classifier = embedding;
        else if (!selection.Head)
            classifier = [];
        else if (tensors.ContainsKey("lm_head.weight"))
            classifier = Read("lm_head.weight", vocab, dim);
        else
        {
            throw new ModelFormatException(
                $"{HuggingFaceConfig.FileName}: tie_word_embeddings is false but no lm_head.weight tensor exists; " +
                "set tie_word_embeddings to true if the model shares its embedding, or fetch the full model again");
        }
        return new LlamaWeights
        {
            Config = c, TokenEmbedding = embedding, Layers = layers, RmsFinal = rmsFinal, Classifier = classifier,
            Selection = selection.IsAll ? null : selection,
        };
    }
}
