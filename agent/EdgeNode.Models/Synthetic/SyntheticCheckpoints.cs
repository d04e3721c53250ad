using System.Collections.ObjectModel;
using System.Text.Json;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Models.Synthetic;

/// <summary>
/// Seeded random-weight checkpoints at the shapes of real models, for measuring speed, memory and bytes on the wire
/// where no real checkpoint of that size can be had. The text they produce is noise; say "random weights at the
/// shape of X" wherever their numbers appear.
/// </summary>
public static class SyntheticCheckpoints
{
    /// <summary>
    /// Standard deviation the logits should have. Several units keeps the top two logits well apart, so two float32
    /// implementations agree on every greedy token instead of flipping on near-ties.
    /// </summary>
    public const float TargetLogitStd = 6f;

    private static readonly Dictionary<string, (LlamaConfig Config, bool SharedClassifier)> s_shapes = new(StringComparer.Ordinal)
    {
        // Tied or untied classifier as the real model has it, so file size and memory match the real thing.
        ["stories15M"] = (new LlamaConfig(288, 768, 6, 6, 6, 32000, 256), true),
        ["stories110M"] = (new LlamaConfig(768, 2048, 12, 12, 12, 32000, 1024), true),
        ["tinyllama-1.1b"] = (new LlamaConfig(2048, 5632, 22, 32, 4, 32000, 2048), false),
        // Llama 3.2 1B's real vocabulary is 128256 tokens; here it uses the Llama-2 tokenizer (32000), and the
        // llama2.c format carries no RoPE base, so it keeps 10000 rather than the real 500000.
        ["llama-3.2-1b"] = (new LlamaConfig(2048, 8192, 16, 32, 8, 32000, 2048), true),
    };

    public static IReadOnlyDictionary<string, LlamaConfig> Shapes { get; } =
        new ReadOnlyDictionary<string, LlamaConfig>(s_shapes.ToDictionary(p => p.Key, p => p.Value.Config, StringComparer.Ordinal));

    /// <summary>Whether the real model of this shape ties its classifier to the embedding.</summary>
    public static bool HasSharedClassifier(string shape) => LookUp(shape).SharedClassifier;

    /// <summary>Deterministic weights for <paramref name="config"/>: the same seed gives the same bits on any machine and thread count.</summary>
    public static LlamaWeights Generate(LlamaConfig config, ulong seed, bool sharedClassifier = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        var spans = Llama2cLayout.Tensors(config, sharedClassifier);
        float[] Make(string name, int layer)
        {
            var span = spans.First(s => s.Name == name && s.Layer == layer);
            var values = new float[span.FloatCount];
            Fill(name, layer, config, seed, values);
            return values;
        }

        var embedding = Make("token_embedding_table", -1);
        var layers = new LayerWeights[config.Layers];
        for (var l = 0; l < layers.Length; l++)
        {
            layers[l] = new LayerWeights
            {
                RmsAtt = Make("rms_att_weight", l), Wq = Make("wq", l), Wk = Make("wk", l), Wv = Make("wv", l), Wo = Make("wo", l),
                RmsFfn = Make("rms_ffn_weight", l), W1 = Make("w1", l), W2 = Make("w2", l), W3 = Make("w3", l),
            };
        }
        return new LlamaWeights
        {
            Config = config,
            TokenEmbedding = embedding,
            Layers = layers,
            RmsFinal = Make("rms_final_weight", -1),
            Classifier = sharedClassifier ? embedding : Make("wcls", -1),
        };
    }

    /// <summary>
    /// Random weights at the shape of a recipe's model, with the features its family has beyond Llama's (q/k/v biases,
    /// per-head q/k norms, a head size other than dim / heads, rope scaling), so speed and memory are those of the real
    /// model's graph. The norms are ones and the biases small, as in trained models.
    /// </summary>
    public static LlamaWeights Generate(Recipes.ModelRecipe recipe, ulong seed, int context)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var shape = recipe.Shape;
        var config = Recipes.RecipeShapeConfig.ToLlamaConfig(shape, context);
        var weights = Generate(config, seed, shape.TiedEmbeddings);
        if (!shape.AttentionBias && !shape.QkNorm)
            return weights;
        var random = new Random(unchecked((int)seed));
        float[] Small(int count) => Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() - 0.5) * 0.04)).ToArray();
        float[] Ones(int count) => Enumerable.Repeat(1f, count).ToArray();
        var layers = weights.Layers.Select(w => new LayerWeights
        {
            RmsAtt = w.RmsAtt, Wq = w.Wq, Wk = w.Wk, Wv = w.Wv, Wo = w.Wo, RmsFfn = w.RmsFfn, W1 = w.W1, W2 = w.W2, W3 = w.W3,
            Bq = shape.AttentionBias ? Small(config.QDim) : null,
            Bk = shape.AttentionBias ? Small(config.KvDim) : null,
            Bv = shape.AttentionBias ? Small(config.KvDim) : null,
            QNorm = shape.QkNorm ? Ones(config.HeadSize) : null,
            KNorm = shape.QkNorm ? Ones(config.HeadSize) : null,
        }).ToArray();
        return new LlamaWeights { Config = config, TokenEmbedding = weights.TokenEmbedding, Layers = layers, RmsFinal = weights.RmsFinal, Classifier = weights.Classifier };
    }

    /// <summary>
    /// Writes model.bin (llama2.c legacy layout, one tensor at a time so even the 4.4 GB TinyLlama shape never sits in
    /// memory whole), a copy of the tokenizer as tokenizer.bin, and synth.json describing what the weights are.
    /// </summary>
    public static void WriteModelDirectory(string shape, ulong seed, string outDirectory, string tokenizerPath, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(outDirectory);
        ArgumentNullException.ThrowIfNull(tokenizerPath);
        var (config, shared) = LookUp(shape);
        // Fail before writing gigabytes if the tokenizer cannot serve this vocabulary.
        Llama2cTokenizer.Load(tokenizerPath, config.VocabSize);
        Directory.CreateDirectory(outDirectory);

        var spans = Llama2cLayout.Tensors(config, shared);
        var totalBytes = spans[^1].EndOffset;
        var modelPath = Path.Combine(outDirectory, "model.bin");
        var partialPath = modelPath + ".partial";
        var (ropeReal, ropeImaginary) = Llama2cLayout.RopeTables(config);
        using (var stream = new FileStream(partialPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Llama2cCheckpoint.WriteHeader(stream, config, shared);
            float[] buffer = [];
            foreach (var span in spans)
            {
                if (span.Name == "freq_cis_real")
                {
                    Llama2cCheckpoint.WriteFloats(stream, ropeReal);
                }
                else if (span.Name == "freq_cis_imag")
                {
                    Llama2cCheckpoint.WriteFloats(stream, ropeImaginary);
                }
                else
                {
                    if (buffer.LongLength < span.FloatCount)
                        buffer = new float[span.FloatCount];
                    var values = buffer.AsSpan(0, (int)span.FloatCount);
                    Fill(span.Name, span.Layer, config, seed, buffer);
                    Llama2cCheckpoint.WriteFloats(stream, values);
                }
                progress?.Report((double)span.EndOffset / totalBytes);
            }
        }
        File.Move(partialPath, modelPath, overwrite: true);
        File.Copy(tokenizerPath, Path.Combine(outDirectory, "tokenizer.bin"), overwrite: true);
        WriteDescription(Path.Combine(outDirectory, "synth.json"), shape, seed, config, shared);
    }

    private static (LlamaConfig Config, bool SharedClassifier) LookUp(string shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!s_shapes.TryGetValue(shape, out var entry))
            throw new ArgumentException($"unknown shape '{shape}'; known shapes: {string.Join(", ", s_shapes.Keys)}", nameof(shape));
        return entry;
    }

    /// <summary>
    /// Fills the first FloatCount values of <paramref name="destination"/> for one tensor. Every row draws from its own
    /// generator seeded by (seed, tensor, layer, row), which is what makes the result independent of the thread count.
    /// </summary>
    private static void Fill(string name, int layer, LlamaConfig config, ulong seed, float[] destination)
    {
        if (name is "rms_att_weight" or "rms_ffn_weight" or "rms_final_weight")
        {
            Array.Fill(destination, 1f, 0, config.Dim);
            return;
        }
        var (kind, columns, rows, std) = name switch
        {
            // Embedding and classifier: after RMSNorm the hidden state has unit RMS, so a std of target/sqrt(dim)
            // gives logits with the target std. The embedding shares that scale, tied or not.
            "token_embedding_table" => (1, config.Dim, config.VocabSize, TargetLogitStd / MathF.Sqrt(config.Dim)),
            "wcls" => (2, config.Dim, config.VocabSize, TargetLogitStd / MathF.Sqrt(config.Dim)),
            // Projections: std 1/sqrt(fan_in) keeps each output at about the scale of its input.
            "wq" => (3, config.Dim, config.QDim, 1f / MathF.Sqrt(config.Dim)),
            "wk" => (4, config.Dim, config.KvDim, 1f / MathF.Sqrt(config.Dim)),
            "wv" => (5, config.Dim, config.KvDim, 1f / MathF.Sqrt(config.Dim)),
            "wo" => (6, config.QDim, config.Dim, 1f / MathF.Sqrt(config.QDim)),
            "w1" => (7, config.Dim, config.HiddenDim, 1f / MathF.Sqrt(config.Dim)),
            "w2" => (8, config.HiddenDim, config.Dim, 1f / MathF.Sqrt(config.HiddenDim)),
            "w3" => (9, config.Dim, config.HiddenDim, 1f / MathF.Sqrt(config.Dim)),
            _ => throw new ArgumentException($"no generator for tensor {name}", nameof(name)),
        };
        var tensorKey = ((ulong)kind << 32) | (uint)(layer + 1);
        Parallel.For(0, rows, row =>
        {
            var state = seed ^ Mix(tensorKey ^ Mix((ulong)row + 0x9E3779B97F4A7C15UL));
            var values = destination.AsSpan(row * columns, columns);
            for (var i = 0; i < columns; i += 2)
            {
                // Box-Muller: two uniforms in (0, 1] give two independent standard normals.
                var u1 = ((SplitMix64(ref state) >> 11) + 1) * (1.0 / (1UL << 53));
                var u2 = (SplitMix64(ref state) >> 11) * (1.0 / (1UL << 53));
                var radius = Math.Sqrt(-2.0 * Math.Log(u1));
                var angle = 2.0 * Math.PI * u2;
                values[i] = (float)(radius * Math.Cos(angle)) * std;
                if (i + 1 < columns)
                    values[i + 1] = (float)(radius * Math.Sin(angle)) * std;
            }
        });
    }

    private static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static void WriteDescription(string path, string shape, ulong seed, LlamaConfig config, bool shared)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("shape", shape);
        json.WriteNumber("seed", seed);
        json.WriteString("note", $"random weights at the shape of {shape}");
        json.WriteNumber("dim", config.Dim);
        json.WriteNumber("hidden_dim", config.HiddenDim);
        json.WriteNumber("n_layers", config.Layers);
        json.WriteNumber("n_heads", config.Heads);
        json.WriteNumber("n_kv_heads", config.KvHeads);
        json.WriteNumber("vocab_size", config.VocabSize);
        json.WriteNumber("seq_len", config.MaxSeqLen);
        json.WriteBoolean("shared_classifier", shared);
        json.WriteNumber("target_logit_std", TargetLogitStd);
        json.WriteEndObject();
    }
}
