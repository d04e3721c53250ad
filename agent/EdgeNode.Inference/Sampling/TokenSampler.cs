using System.Buffers;

namespace EdgeNode.Inference.Sampling;

/// <summary>
/// Picks the next token from a row of logits. Greedy is a single pass with no allocation; sampling
/// works in a pooled scratch buffer (candidates sorted only as far as top-k / top-p need).
/// </summary>
public sealed class TokenSampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;

    public TokenSampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        Seed = options.Seed ?? (ulong)Environment.TickCount64 ^ (ulong)Environment.ProcessId << 32;
        _random = new Random((int)(Seed ^ (Seed >> 32)));
    }

    /// <summary>The seed in use, so a run can be repeated.</summary>
    public ulong Seed { get; }

    public bool IsGreedy => _options.Temperature == 0;

    /// <summary>Chooses a token. <paramref name="logits"/> may be modified (penalty, temperature).</summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> history)
    {
        ApplyRepetitionPenalty(logits, history);
        if (IsGreedy)
            return ArgMax(logits);

        var inverseTemperature = 1f / _options.Temperature;
        var vocab = logits.Length;
        var ids = ArrayPool<int>.Shared.Rent(vocab);
        var probs = ArrayPool<float>.Shared.Rent(vocab);
        try
        {
            // softmax
            var max = logits[ArgMax(logits)];
            var p = probs.AsSpan(0, vocab);
            var sum = 0f;
            for (var i = 0; i < vocab; i++)
            {
                p[i] = MathF.Exp((logits[i] - max) * inverseTemperature);
                sum += p[i];
            }
            for (var i = 0; i < vocab; i++)
                p[i] /= sum;

            var count = vocab;
            var idSpan = ids.AsSpan(0, vocab);
            for (var i = 0; i < vocab; i++) idSpan[i] = i;
            if (_options.TopK > 0 && _options.TopK < vocab || _options.TopP < 1)
            {
                // Sort candidates by probability, descending, then cut by top-k and top-p.
                idSpan.Sort((a, b) => probs[b].CompareTo(probs[a]));
                if (_options.TopK > 0)
                    count = Math.Min(count, _options.TopK);
                if (_options.TopP < 1)
                {
                    var cumulative = 0f;
                    for (var i = 0; i < count; i++)
                    {
                        cumulative += probs[idSpan[i]];
                        if (cumulative >= _options.TopP)
                        {
                            count = i + 1;
                            break;
                        }
                    }
                }
            }
            var total = 0f;
            for (var i = 0; i < count; i++) total += probs[idSpan[i]];
            var r = (float)_random.NextDouble() * total;
            var acc = 0f;
            for (var i = 0; i < count; i++)
            {
                acc += probs[idSpan[i]];
                if (r < acc)
                    return idSpan[i];
            }
            return idSpan[count - 1];
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
            ArrayPool<float>.Shared.Return(probs);
        }
    }

    /// <summary>Index of the largest logit; the first one wins a tie, as in the reference implementation.</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        var bestValue = logits[0];
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > bestValue)
            {
                bestValue = logits[i];
                best = i;
            }
        }
        return best;
    }

    private void ApplyRepetitionPenalty(Span<float> logits, ReadOnlySpan<int> history)
    {
        var penalty = _options.RepetitionPenalty;
        if (penalty == 1f || history.IsEmpty)
            return;
        var window = history.Length > _options.RepetitionWindow ? history[^_options.RepetitionWindow..] : history;
        Span<bool> seen = logits.Length <= 4096 ? stackalloc bool[logits.Length] : new bool[logits.Length];
        foreach (var token in window)
        {
            if ((uint)token >= (uint)logits.Length || seen[token])
                continue;
            seen[token] = true;
            logits[token] = logits[token] > 0 ? logits[token] / penalty : logits[token] * penalty;
        }
    }
}
