using System.Buffers.Binary;
using EdgeNode.Models.Synthetic;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Import;

/// <summary>Small random-weight models with each family's features (q/k/v biases, q/k norms): typically dim 64, 2 layers, 8 heads over 2 KV heads, vocab 300.</summary>
internal static class FamilyCheckpoints
{
    public static readonly int[] Tokens = [1, 57, 299, 3, 120, 200, 42, 7, 250, 18, 99, 1];

    public static LlamaWeights Generate(LlamaConfig config, bool sharedClassifier, bool biases, ulong seed, bool headNorms = false)
    {
        var weights = SyntheticCheckpoints.Generate(config, seed, sharedClassifier);
        if (!biases && !headNorms)
            return weights;
        var random = new Random((int)seed);
        float[] Bias(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var layers = weights.Layers.Select(w => new LayerWeights
        {
            RmsAtt = w.RmsAtt, Wq = w.Wq, Wk = w.Wk, Wv = w.Wv, Wo = w.Wo, RmsFfn = w.RmsFfn, W1 = w.W1, W2 = w.W2, W3 = w.W3,
            Bq = biases ? Bias(config.QDim) : null, Bk = biases ? Bias(config.KvDim) : null, Bv = biases ? Bias(config.KvDim) : null,
            // Around 1 but not 1, so a skipped norm weight or a wrong order within the head changes the logits.
            QNorm = headNorms ? Bias(config.HeadSize).Select(b => 1 + b).ToArray() : null,
            KNorm = headNorms ? Bias(config.HeadSize).Select(b => 1 + b).ToArray() : null,
        }).ToArray();
        return new LlamaWeights { Config = config, TokenEmbedding = weights.TokenEmbedding, Layers = layers, RmsFinal = weights.RmsFinal, Classifier = weights.Classifier };
    }

    /// <summary>The first <paramref name="vocabSize"/> tokens of tok512.bin, so the GGUF exporter has a tokenizer of that size.</summary>
    public static string TruncatedTokenizer(TempDirectory temp, int vocabSize)
    {
        var bytes = File.ReadAllBytes(TestPaths.Model("stories260K", "tok512.bin"));
        var offset = 4;
        for (var i = 0; i < vocabSize; i++)
            offset += 8 + BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset + 4));
        var path = temp.File($"tok{vocabSize}.bin");
        File.WriteAllBytes(path, bytes[..offset]);
        return path;
    }
}
