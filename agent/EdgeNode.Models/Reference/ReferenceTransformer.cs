namespace EdgeNode.Models.Reference;

/// <summary>
/// A plain float32 forward pass that follows llama2.c's run.c step by step. It exists to check faster
/// implementations (the ONNX graphs, quantized paths) against, so it favours clarity over speed.
/// </summary>
public sealed class ReferenceTransformer
{
    private readonly LlamaWeights _weights;
    private readonly LlamaConfig _config;
    private readonly int _maxSeqLen;
    private readonly float[][] _keyCache;   // [layer][position * kvDim + i]
    private readonly float[][] _valueCache; // [layer][position * kvDim + i]
    private readonly float[] _ropeFrequencies; // per pair within a head

    public ReferenceTransformer(LlamaWeights weights, int maxSeqLen)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSeqLen, 1);
        _weights = weights;
        _config = weights.Config;
        _maxSeqLen = maxSeqLen;
        _ropeFrequencies = _config.RopeFrequencies();
        _keyCache = new float[_config.Layers][];
        _valueCache = new float[_config.Layers][];
        for (var l = 0; l < _config.Layers; l++)
        {
            _keyCache[l] = new float[(long)maxSeqLen * _config.KvDim];
            _valueCache[l] = new float[(long)maxSeqLen * _config.KvDim];
        }
    }

    public LlamaConfig Config => _config;

    public int MaxSeqLen => _maxSeqLen;

    public float[] Embed(int token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, _config.VocabSize);
        return _weights.TokenEmbedding.AsSpan(token * _config.Dim, _config.Dim).ToArray();
    }

    /// <summary>Runs layers [firstLayer, endLayer) on <paramref name="hidden"/> in place, writing their KV cache at <paramref name="position"/>.</summary>
    public void ForwardLayers(Span<float> hidden, int position, int firstLayer, int endLayer)
    {
        var c = _config;
        if (hidden.Length != c.Dim)
            throw new ArgumentException($"hidden holds {hidden.Length} values, expected dim = {c.Dim}", nameof(hidden));
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, _maxSeqLen);
        if (firstLayer < 0 || endLayer > c.Layers || firstLayer > endLayer)
            throw new ArgumentOutOfRangeException(nameof(firstLayer), $"layer range [{firstLayer}, {endLayer}) is not within [0, {c.Layers})");

        int dim = c.Dim, qDim = c.QDim, kvDim = c.KvDim, headSize = c.HeadSize, kvGroup = c.Heads / c.KvHeads;
        var x = hidden.ToArray();
        var xb = new float[dim];
        var q = new float[qDim];
        var attentionOut = new float[qDim];
        var projected = new float[dim];
        var gate = new float[c.HiddenDim];
        var up = new float[c.HiddenDim];
        var scores = new float[position + 1];
        var scale = 1f / MathF.Sqrt(headSize);

        for (var l = firstLayer; l < endLayer; l++)
        {
            var w = _weights.Layers[l];
            RmsNorm(xb, x, w.RmsAtt, c.NormEps);

            var k = _keyCache[l].AsSpan(position * kvDim, kvDim);
            var v = _valueCache[l].AsSpan(position * kvDim, kvDim);
            MatMul(q, xb, w.Wq, dim, qDim);
            MatMul(k, xb, w.Wk, dim, kvDim);
            MatMul(v, xb, w.Wv, dim, kvDim);
            AddBias(q, w.Bq);
            AddBias(k, w.Bk);
            AddBias(v, w.Bv);
            // Qwen3 normalises every query and key head on its own, before the rotation.
            NormalizeHeads(q, w.QNorm, headSize, c.NormEps);
            NormalizeHeads(k, w.KNorm, headSize, c.NormEps);
            ApplyRope(q, position, headSize, _ropeFrequencies);
            ApplyRope(k, position, headSize, _ropeFrequencies);

            // Each query head attends over its KV group's cached keys and values (grouped-query attention).
            for (var h = 0; h < c.Heads; h++)
            {
                var qHead = q.AsSpan(h * headSize, headSize);
                var kvOffset = h / kvGroup * headSize;
                for (var t = 0; t <= position; t++)
                {
                    var kHead = _keyCache[l].AsSpan(t * kvDim + kvOffset, headSize);
                    var dot = 0f;
                    for (var i = 0; i < headSize; i++)
                        dot += qHead[i] * kHead[i];
                    scores[t] = dot * scale;
                }
                Softmax(scores.AsSpan(0, position + 1));
                var outHead = attentionOut.AsSpan(h * headSize, headSize);
                outHead.Clear();
                for (var t = 0; t <= position; t++)
                {
                    var vHead = _valueCache[l].AsSpan(t * kvDim + kvOffset, headSize);
                    for (var i = 0; i < headSize; i++)
                        outHead[i] += scores[t] * vHead[i];
                }
            }
            MatMul(projected, attentionOut, w.Wo, qDim, dim);
            for (var i = 0; i < dim; i++)
                x[i] += projected[i];

            // SwiGLU feed-forward: w2(silu(w1 x) * w3 x).
            RmsNorm(xb, x, w.RmsFfn, c.NormEps);
            MatMul(gate, xb, w.W1, dim, c.HiddenDim);
            MatMul(up, xb, w.W3, dim, c.HiddenDim);
            for (var i = 0; i < c.HiddenDim; i++)
            {
                var g = gate[i];
                gate[i] = g * (1f / (1f + MathF.Exp(-g))) * up[i];
            }
            MatMul(projected, gate, w.W2, c.HiddenDim, dim);
            for (var i = 0; i < dim; i++)
                x[i] += projected[i];
        }
        x.CopyTo(hidden);
    }

    public float[] Head(ReadOnlySpan<float> hidden)
    {
        var c = _config;
        if (hidden.Length != c.Dim)
            throw new ArgumentException($"hidden holds {hidden.Length} values, expected dim = {c.Dim}", nameof(hidden));
        var normed = new float[c.Dim];
        RmsNorm(normed, hidden, _weights.RmsFinal, c.NormEps);
        var logits = new float[c.VocabSize];
        MatMul(logits, normed, _weights.Classifier, c.Dim, c.VocabSize);
        return logits;
    }

    public float[] Forward(int token, int position)
    {
        var hidden = Embed(token);
        ForwardLayers(hidden, position, 0, _config.Layers);
        return Head(hidden);
    }

    /// <summary>Forgets the KV cache; the next sequence starts at position 0.</summary>
    public void Reset()
    {
        foreach (var cache in _keyCache)
            Array.Clear(cache);
        foreach (var cache in _valueCache)
            Array.Clear(cache);
    }

    private static void RmsNorm(Span<float> output, ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps)
    {
        var sumSquares = 0f;
        for (var i = 0; i < x.Length; i++)
            sumSquares += x[i] * x[i];
        var inverseRms = 1f / MathF.Sqrt(sumSquares / x.Length + eps);
        for (var i = 0; i < x.Length; i++)
            output[i] = weight[i] * (inverseRms * x[i]);
    }

    private static void NormalizeHeads(Span<float> heads, float[]? weight, int headSize, float eps)
    {
        if (weight is null)
            return;
        for (var start = 0; start < heads.Length; start += headSize)
        {
            var head = heads.Slice(start, headSize);
            RmsNorm(head, head, weight, eps);
        }
    }

    /// <summary>output[rows] = W[rows][columns] · x[columns], accumulated in row order in float32 like run.c.</summary>
    private static void MatMul(Span<float> output, float[] x, float[] w, int columns, int rows)
    {
        if (rows * (long)columns < 1 << 16)
        {
            for (var r = 0; r < rows; r++)
                output[r] = Dot(w.AsSpan(r * columns, columns), x);
            return;
        }
        var result = new float[rows];
        Parallel.For(0, rows, r => result[r] = Dot(w.AsSpan(r * columns, columns), x));
        result.CopyTo(output);
    }

    private static void MatMul(Span<float> output, ReadOnlySpan<float> x, float[] w, int columns, int rows) =>
        MatMul(output, x.ToArray(), w, columns, rows);

    private static float Dot(ReadOnlySpan<float> row, ReadOnlySpan<float> x)
    {
        var sum = 0f;
        for (var i = 0; i < row.Length; i++)
            sum += row[i] * x[i];
        return sum;
    }

    private static void AddBias(Span<float> values, float[]? bias)
    {
        if (bias is null)
            return;
        for (var i = 0; i < values.Length; i++)
            values[i] += bias[i];
    }

    /// <summary>Rotates consecutive pairs (i, i+1) within each head by position * frequencies[(i % headSize) / 2].</summary>
    private static void ApplyRope(Span<float> vector, int position, int headSize, float[] frequencies)
    {
        for (var i = 0; i < vector.Length; i += 2)
        {
            var frequency = frequencies[i % headSize / 2];
            var angle = position * frequency;
            var cos = MathF.Cos(angle);
            var sin = MathF.Sin(angle);
            var v0 = vector[i];
            var v1 = vector[i + 1];
            vector[i] = v0 * cos - v1 * sin;
            vector[i + 1] = v0 * sin + v1 * cos;
        }
    }

    private static void Softmax(Span<float> values)
    {
        var max = float.NegativeInfinity;
        foreach (var v in values)
            max = MathF.Max(max, v);
        var sum = 0f;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = MathF.Exp(values[i] - max);
            sum += values[i];
        }
        for (var i = 0; i < values.Length; i++)
            values[i] /= sum;
    }
}
