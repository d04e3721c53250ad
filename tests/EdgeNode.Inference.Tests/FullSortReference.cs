using EdgeNode.Inference.Sampling;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// The sampler's candidate set computed the plain way, in doubles: sort the whole vocabulary by logit
/// (ties by id), softmax(logits / T) over all of it, keep the top k and renormalise, keep the shortest
/// prefix whose mass reaches P and renormalise again. The sampler must agree with it.
/// </summary>
internal static class FullSortReference
{
    public static (int[] Tokens, double[] Probabilities) Candidates(float[] logits, SamplingOptions options)
    {
        var order = new int[logits.Length];
        for (var i = 0; i < order.Length; i++)
            order[i] = i;
        // The comparison delegate over the whole vocabulary is the cost the sampler avoids.
        Array.Sort(order, (a, b) => logits[a] != logits[b] ? logits[b].CompareTo(logits[a]) : a.CompareTo(b));
        if (options.Temperature < TokenSampler.GreedyBelowTemperature)
            return ([order[0]], [1.0]);

        var max = (double)logits[order[0]];
        var softmax = new double[logits.Length];
        var total = 0.0;
        for (var i = 0; i < logits.Length; i++)
        {
            softmax[i] = Math.Exp((logits[i] - max) / options.Temperature);
            total += softmax[i];
        }
        var k = options.TopK > 0 ? Math.Min(options.TopK, logits.Length) : logits.Length;
        var kept = order[..k];
        var probabilities = Renormalised(kept.Select(id => softmax[id] / total).ToArray());
        if (options.TopP < 1)
        {
            var cumulative = 0.0;
            var length = probabilities.Length;
            for (var i = 0; i < probabilities.Length; i++)
            {
                cumulative += probabilities[i];
                if (cumulative >= options.TopP)
                {
                    length = i + 1;
                    break;
                }
            }
            kept = kept[..length];
            probabilities = Renormalised(probabilities[..length]);
        }
        return (kept, probabilities);
    }

    private static double[] Renormalised(double[] values)
    {
        var sum = values.Sum();
        return values.Select(v => v / sum).ToArray();
    }
}
