namespace EdgeNode.Models.Conversion.Quantization;

/// <summary>
/// Activation-aware weight scaling (the idea of AWQ) for the projections that follow an RMSNorm. Input channel i of
/// QKV and gate-up is multiplied by s_i = mean|x_i|^alpha and the norm's weight divided by s_i, which leaves the fp32
/// model unchanged, while the columns that meet large activations get more of each block's range and so less rounding
/// error where it counts. Wo and W2 read attention / SwiGLU outputs with no norm to fold into, so they stay as they are.
/// </summary>
public static class ActivationAwareScaling
{
    public const float DefaultAlpha = 0.5f;

    /// <summary>New weights with the scaling folded in; arrays that do not change are shared with <paramref name="weights"/>.</summary>
    public static LlamaWeights Apply(LlamaWeights weights, ChannelActivations activations, float alpha = DefaultAlpha)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(activations);
        if (activations.AttentionInput.Count != weights.Layers.Length)
            throw new ArgumentException($"activations cover {activations.AttentionInput.Count} layers, the model has {weights.Layers.Length}", nameof(activations));
        var layers = new LayerWeights[weights.Layers.Length];
        for (var l = 0; l < layers.Length; l++)
        {
            var w = weights.Layers[l];
            var attention = Scales(activations.AttentionInput[l], alpha);
            var ffn = Scales(activations.FfnInput[l], alpha);
            layers[l] = new LayerWeights
            {
                RmsAtt = DivideBy(w.RmsAtt, attention),
                Wq = ScaleColumns(w.Wq, attention),
                Wk = ScaleColumns(w.Wk, attention),
                Wv = ScaleColumns(w.Wv, attention),
                Bq = w.Bq, Bk = w.Bk, Bv = w.Bv, QNorm = w.QNorm, KNorm = w.KNorm,
                Wo = w.Wo,
                RmsFfn = DivideBy(w.RmsFfn, ffn),
                W1 = ScaleColumns(w.W1, ffn),
                W3 = ScaleColumns(w.W3, ffn),
                W2 = w.W2,
            };
        }
        return new LlamaWeights
        {
            Config = weights.Config, TokenEmbedding = weights.TokenEmbedding, Layers = layers, RmsFinal = weights.RmsFinal,
            Classifier = weights.Classifier,
        };
    }

    /// <summary>
    /// s = mean^alpha, normalized so that max·min = 1: only the ratios between channels matter, and centring them
    /// keeps the norm weights and the matrices in their usual range.
    /// </summary>
    private static float[] Scales(float[] meanAbs, float alpha)
    {
        // A channel that never fired would get scale 0; floor it at a small fraction of the largest mean.
        var floor = Math.Max(meanAbs.Max() * 1e-4f, float.Epsilon);
        var scales = meanAbs.Select(m => MathF.Pow(MathF.Max(m, floor), alpha)).ToArray();
        var centre = MathF.Sqrt(scales.Max() * scales.Min());
        for (var i = 0; i < scales.Length; i++)
            scales[i] /= centre;
        return scales;
    }

    private static float[] ScaleColumns(float[] matrix, float[] scales)
    {
        var k = scales.Length;
        var result = new float[matrix.Length];
        for (var i = 0; i < matrix.Length; i++)
            result[i] = matrix[i] * scales[i % k];
        return result;
    }

    private static float[] DivideBy(float[] gamma, float[] scales) => gamma.Select((g, i) => g / scales[i]).ToArray();
}
