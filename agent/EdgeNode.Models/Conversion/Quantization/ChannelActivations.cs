using EdgeNode.Models.Reference;

namespace EdgeNode.Models.Conversion.Quantization;

/// <summary>
/// Mean |activation| per input channel of the two projections that read an RMSNorm's output in each layer: QKV (after
/// the attention norm) and gate-up (after the FFN norm), measured by the reference forward pass over calibration
/// sequences. Activation-aware scaling uses them to tell which weight columns matter most.
/// </summary>
public sealed class ChannelActivations
{
    private ChannelActivations(float[][] attentionInput, float[][] ffnInput, long positions)
    {
        AttentionInput = attentionInput;
        FfnInput = ffnInput;
        Positions = positions;
    }

    /// <summary>[layer][dim]: mean |x| entering Wq, Wk, Wv.</summary>
    public IReadOnlyList<float[]> AttentionInput { get; }

    /// <summary>[layer][dim]: mean |x| entering W1, W3.</summary>
    public IReadOnlyList<float[]> FfnInput { get; }

    public long Positions { get; }

    /// <param name="weights">The fp32 model.</param>
    /// <param name="sequences">Calibration token sequences, each run from position 0.</param>
    /// <param name="positionsDone">Called after each sequence with the positions measured so far (the pass is slow on large models).</param>
    public static ChannelActivations Collect(LlamaWeights weights, IEnumerable<int[]> sequences, Action<long>? positionsDone = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(sequences);
        var c = weights.Config;
        var batch = sequences.ToList();
        var maxLength = Math.Max(1, batch.Select(s => s.Length).DefaultIfEmpty(0).Max());
        var full = new ReferenceTransformer(weights, maxLength);
        // The FFN-norm input is the residual after attention, which the reference does not expose. A twin whose FFN
        // writes nothing (W2 = 0) returns exactly that residual for one layer, and since it is fed the same layer inputs
        // its KV cache matches the real one.
        var attentionOnly = new ReferenceTransformer(WithoutFfnOutput(weights), maxLength);

        var attention = NewSums(c.Layers, c.Dim);
        var ffn = NewSums(c.Layers, c.Dim);
        long positions = 0;
        var normed = new float[c.Dim];
        foreach (var sequence in batch)
        {
            full.Reset();
            attentionOnly.Reset();
            for (var position = 0; position < sequence.Length; position++)
            {
                var hidden = full.Embed(sequence[position]);
                for (var l = 0; l < c.Layers; l++)
                {
                    var layer = weights.Layers[l];
                    Accumulate(attention[l], hidden, layer.RmsAtt, c.NormEps, normed);
                    var afterAttention = hidden.ToArray();
                    attentionOnly.ForwardLayers(afterAttention, position, l, l + 1);
                    Accumulate(ffn[l], afterAttention, layer.RmsFfn, c.NormEps, normed);
                    full.ForwardLayers(hidden, position, l, l + 1);
                }
                positions++;
            }
            positionsDone?.Invoke(positions);
        }
        if (positions == 0)
            throw new ArgumentException("calibration needs at least one token", nameof(sequences));
        return new ChannelActivations(Means(attention, positions), Means(ffn, positions), positions);
    }

    private static LlamaWeights WithoutFfnOutput(LlamaWeights weights) => new()
    {
        Config = weights.Config,
        TokenEmbedding = weights.TokenEmbedding,
        RmsFinal = weights.RmsFinal,
        Classifier = weights.Classifier,
        Layers = weights.Layers.Select(l => new LayerWeights
        {
            RmsAtt = l.RmsAtt, Wq = l.Wq, Wk = l.Wk, Wv = l.Wv, Wo = l.Wo, Bq = l.Bq, Bk = l.Bk, Bv = l.Bv, QNorm = l.QNorm, KNorm = l.KNorm,
            RmsFfn = l.RmsFfn, W1 = l.W1, W3 = l.W3, W2 = new float[l.W2.Length],
        }).ToArray(),
    };

    /// <summary>Adds |RMSNorm(x) * gamma| channel by channel, computed as the reference computes it.</summary>
    private static void Accumulate(double[] sums, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, float eps, Span<float> normed)
    {
        var sumSquares = 0f;
        foreach (var v in x)
            sumSquares += v * v;
        var inverseRms = 1f / MathF.Sqrt(sumSquares / x.Length + eps);
        for (var i = 0; i < x.Length; i++)
        {
            normed[i] = gamma[i] * (inverseRms * x[i]);
            sums[i] += Math.Abs(normed[i]);
        }
    }

    private static double[][] NewSums(int layers, int dim) => Enumerable.Range(0, layers).Select(_ => new double[dim]).ToArray();

    private static float[][] Means(double[][] sums, long count) =>
        sums.Select(layer => layer.Select(s => (float)(s / count)).ToArray()).ToArray();
}
