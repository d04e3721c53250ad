namespace EdgeNode.Models.Tests.Import;

/// <summary>
/// A Hugging Face-style forward pass written directly from the published model definition: Q/K in rotate-half order
/// (dimension i pairs with i + headSize/2), optional q/k/v biases, Qwen3's per-head q/k RMSNorm before RoPE, a head size
/// that may differ from dim / heads, Llama-3 frequency scaling. It runs on the tensors as
/// they sit in the safetensors file, so it checks the importer's renaming, permutation and bias handling end to end.
/// </summary>
internal sealed class RotateHalfForward(LlamaConfig config, IReadOnlyDictionary<string, float[]> tensors, bool tied)
{
    private readonly List<float[]>[] _keys = Enumerable.Range(0, config.Layers).Select(_ => new List<float[]>()).ToArray();
    private readonly List<float[]>[] _values = Enumerable.Range(0, config.Layers).Select(_ => new List<float[]>()).ToArray();

    public float[] Forward(int token, int position)
    {
        var c = config;
        var x = tensors["model.embed_tokens.weight"].AsSpan(token * c.Dim, c.Dim).ToArray();
        var headSize = c.HeadSize;
        for (var l = 0; l < c.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            var h = Norm(x, tensors[p + "input_layernorm.weight"]);
            var q = Linear(tensors[p + "self_attn.q_proj.weight"], h, tensors.GetValueOrDefault(p + "self_attn.q_proj.bias"));
            var k = Linear(tensors[p + "self_attn.k_proj.weight"], h, tensors.GetValueOrDefault(p + "self_attn.k_proj.bias"));
            var v = Linear(tensors[p + "self_attn.v_proj.weight"], h, tensors.GetValueOrDefault(p + "self_attn.v_proj.bias"));
            if (tensors.TryGetValue(p + "self_attn.q_norm.weight", out var qNorm))
            {
                q = NormPerHead(q, qNorm);
                k = NormPerHead(k, tensors[p + "self_attn.k_norm.weight"]);
            }
            RotateHalf(q, position);
            RotateHalf(k, position);
            _keys[l].Add(k);
            _values[l].Add(v);
            var attention = new float[c.Heads * headSize];
            var group = c.Heads / c.KvHeads;
            for (var head = 0; head < c.Heads; head++)
            {
                var kvBase = head / group * headSize;
                var scores = new double[position + 1];
                for (var t = 0; t <= position; t++)
                {
                    double dot = 0;
                    for (var i = 0; i < headSize; i++)
                        dot += q[head * headSize + i] * _keys[l][t][kvBase + i];
                    scores[t] = dot / Math.Sqrt(headSize);
                }
                var max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                var sum = weights.Sum();
                for (var t = 0; t <= position; t++)
                {
                    for (var i = 0; i < headSize; i++)
                        attention[head * headSize + i] += (float)(weights[t] / sum * _values[l][t][kvBase + i]);
                }
            }
            var o = Linear(tensors[p + "self_attn.o_proj.weight"], attention, null);
            for (var i = 0; i < c.Dim; i++)
                x[i] += o[i];
            h = Norm(x, tensors[p + "post_attention_layernorm.weight"]);
            var gate = Linear(tensors[p + "mlp.gate_proj.weight"], h, null);
            var up = Linear(tensors[p + "mlp.up_proj.weight"], h, null);
            for (var i = 0; i < gate.Length; i++)
                gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
            var down = Linear(tensors[p + "mlp.down_proj.weight"], gate, null);
            for (var i = 0; i < c.Dim; i++)
                x[i] += down[i];
        }
        var final = Norm(x, tensors["model.norm.weight"]);
        return Linear(tied ? tensors["model.embed_tokens.weight"] : tensors["lm_head.weight"], final, null);
    }

    private void RotateHalf(float[] vector, int position)
    {
        var headSize = config.HeadSize;
        var half = headSize / 2;
        for (var start = 0; start < vector.Length; start += headSize)
        {
            var rotated = new float[headSize];
            for (var i = 0; i < headSize; i++)
            {
                var pair = i % half;
                var angle = position * Frequency(pair);
                // x·cos + rotate_half(x)·sin, where rotate_half(x) = (-x2, x1) over the two halves.
                var partner = i < half ? -vector[start + i + half] : vector[start + i - half];
                rotated[i] = vector[start + i] * MathF.Cos(angle) + partner * MathF.Sin(angle);
            }
            rotated.CopyTo(vector, start);
        }
    }

    private float Frequency(int pair)
    {
        var frequency = 1f / MathF.Pow(config.RopeTheta, 2 * pair / (float)config.HeadSize);
        if (config.RopeScaling is not { } s)
            return frequency;
        // Llama 3: wavelengths longer than original_context / low_freq_factor are stretched by factor, shorter than
        // original_context / high_freq_factor kept, and the band between interpolated linearly in original_context / wavelength.
        var wavelength = 2 * MathF.PI / frequency;
        var ratio = s.OriginalMaxPositionEmbeddings / wavelength;
        if (ratio > s.HighFreqFactor)
            return frequency;
        if (ratio < s.LowFreqFactor)
            return frequency / s.Factor;
        var smooth = (ratio - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
        return (1 - smooth) * frequency / s.Factor + smooth * frequency;
    }

    private float[] NormPerHead(float[] x, float[] weight) =>
        x.Chunk(weight.Length).SelectMany(head => Norm(head, weight)).ToArray();

    private float[] Norm(float[] x, float[] weight)
    {
        double sum = 0;
        foreach (var v in x)
            sum += v * v;
        var inverse = 1 / Math.Sqrt(sum / x.Length + config.NormEps);
        return x.Select((v, i) => (float)(v * inverse) * weight[i]).ToArray();
    }

    private static float[] Linear(float[] weight, float[] x, float[]? bias)
    {
        var rows = weight.Length / x.Length;
        var result = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            double sum = bias?[r] ?? 0;
            for (var i = 0; i < x.Length; i++)
                sum += weight[r * x.Length + i] * x[i];
            result[r] = (float)sum;
        }
        return result;
    }
}
