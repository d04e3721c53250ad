using System.Numerics;

namespace EdgeNode.Inference.Sampling;

/// <summary>
/// Picks the next token from a row of logits, in the order Hugging Face applies its warpers: repetition
/// penalty, temperature, top-k, then top-p over the top-k renormalised, then one draw.
/// Only the candidates that can survive are ever ordered: top-k keeps a bounded heap while it scans the
/// row once, and top-p without top-k widens its heap only until the kept mass reaches P. Every buffer
/// belongs to the sampler and grows once, so a step allocates nothing.
/// </summary>
public sealed class TokenSampler
{
    /// <summary>
    /// Temperatures below this choose the argmax: 1/T would scale a logit gap of a few units past what a
    /// float holds, and the softmax would be all zeros and one NaN rather than a distribution.
    /// </summary>
    public const float GreedyBelowTemperature = 1e-5f;

    // top-p without top-k starts with this many candidates and widens by WidenFactor until the mass is reached.
    private const int FirstNucleusWidth = 64;
    private const int WidenFactor = 8;

    private readonly SamplingOptions _options;
    private readonly float _inverseTemperature;
    private readonly Xoshiro256StarStar _random;

    // Candidates, best first: their token ids and (first the logits, then) their probabilities.
    private int[] _ids = new int[1];
    private float[] _values = new float[1];
    private int _count;

    // One bit per vocabulary entry, so the penalty touches each recent token once; cleared after every use.
    private ulong[] _penalised = [];

    public TokenSampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        Seed = options.Seed ?? (ulong)Environment.TickCount64 ^ (ulong)Environment.ProcessId << 32;
        _random = new Xoshiro256StarStar(Seed);
        var inverse = 1f / options.Temperature;
        IsGreedy = options.Temperature < GreedyBelowTemperature || !float.IsFinite(inverse);
        _inverseTemperature = IsGreedy ? 0 : inverse;
    }

    /// <summary>The seed in use, so a run can be repeated.</summary>
    public ulong Seed { get; }

    /// <summary>True when the temperature is 0 or too small to divide by: every choice is the argmax.</summary>
    public bool IsGreedy { get; }

    /// <summary>The tokens the last <see cref="Sample"/> chose among, likeliest first (valid until the next call).</summary>
    public ReadOnlySpan<int> CandidateTokens => _ids.AsSpan(0, _count);

    /// <summary>Their probabilities after temperature, top-k and top-p, renormalised to sum to 1.</summary>
    public ReadOnlySpan<float> CandidateProbabilities => _values.AsSpan(0, _count);

    /// <summary>Chooses a token. <paramref name="logits"/> may be modified (repetition penalty).</summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> history) =>
        Distribution(logits, history) ? Draw() : _ids[0];

    /// <summary>
    /// Leaves the distribution <see cref="Sample"/> would draw from in <see cref="CandidateTokens"/> and
    /// <see cref="CandidateProbabilities"/> without drawing (speculative verification compares it with the draft's).
    /// Returns false when it is a single certain token (greedy, or logits with no finite maximum).
    /// </summary>
    public bool Distribution(Span<float> logits, ReadOnlySpan<int> history)
    {
        if (logits.IsEmpty)
            throw new ArgumentException("there are no logits to sample from", nameof(logits));
        ApplyRepetitionPenalty(logits, history);
        if (IsGreedy)
        {
            SingleCandidate(ArgMax(logits));
            return false;
        }

        var vocab = logits.Length;
        var topK = _options.TopK > 0 && _options.TopK < vocab ? _options.TopK : vocab;
        if (topK < vocab)
            SelectTopK(logits, topK);
        else if (_options.TopP < 1)
            SelectNucleus(logits);
        else
            KeepWholeVocabulary(logits);
        if (_count == 0)
        {
            SingleCandidate(ArgMax(logits));
            return false;
        }
        return true;
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

    private int SingleCandidate(int token)
    {
        _ids[0] = token;
        _values[0] = 1;
        _count = 1;
        return token;
    }

    /// <summary>Top-k: the k largest logits, softmax over them alone, then top-p within them.</summary>
    private void SelectTopK(ReadOnlySpan<float> logits, int k)
    {
        Reserve(k);
        SelectLargest(logits, k);
        var max = _values[0];
        if (!float.IsFinite(max))
        {
            _count = 0;
            return;
        }
        var sum = 0.0;
        for (var i = 0; i < k; i++)
        {
            _values[i] = MathF.Exp((_values[i] - max) * _inverseTemperature);
            sum += _values[i];
        }
        var scale = 1 / sum;
        for (var i = 0; i < k; i++)
            _values[i] = (float)(_values[i] * scale);
        _count = _options.TopP < 1 ? NucleusLength(k) : k;
        Renormalise(_count);
    }

    /// <summary>
    /// Top-p over the whole vocabulary: the mass needs the full softmax sum, but only the likeliest few
    /// need ordering, so the heap starts small and widens only while the kept mass is short of P.
    /// </summary>
    private void SelectNucleus(ReadOnlySpan<float> logits)
    {
        var max = Max(logits);
        if (!float.IsFinite(max))
        {
            _count = 0;
            return;
        }
        var sum = 0.0;
        foreach (var logit in logits)
            sum += MathF.Exp((logit - max) * _inverseTemperature);
        var scale = 1 / sum;
        var width = Math.Min(FirstNucleusWidth, logits.Length);
        while (true)
        {
            Reserve(width);
            SelectLargest(logits, width);
            var mass = 0.0;
            for (var i = 0; i < width; i++)
            {
                _values[i] = (float)(MathF.Exp((_values[i] - max) * _inverseTemperature) * scale);
                mass += _values[i];
            }
            // The whole vocabulary is the answer when rounding leaves its mass a hair short of P.
            if (mass >= _options.TopP || width == logits.Length)
            {
                _count = NucleusLength(width);
                break;
            }
            width = (int)Math.Min((long)width * WidenFactor, logits.Length);
        }
        Renormalise(_count);
    }

    private void KeepWholeVocabulary(ReadOnlySpan<float> logits)
    {
        var vocab = logits.Length;
        Reserve(vocab);
        var max = Max(logits);
        if (!float.IsFinite(max))
        {
            _count = 0;
            return;
        }
        var sum = 0.0;
        for (var i = 0; i < vocab; i++)
        {
            _ids[i] = i;
            _values[i] = MathF.Exp((logits[i] - max) * _inverseTemperature);
            sum += _values[i];
        }
        var scale = 1 / sum;
        for (var i = 0; i < vocab; i++)
            _values[i] = (float)(_values[i] * scale);
        _count = vocab;
    }

    /// <summary>The shortest prefix of the (sorted, normalised) candidates whose probability reaches P.</summary>
    private int NucleusLength(int available)
    {
        var cumulative = 0.0;
        for (var i = 0; i < available; i++)
        {
            cumulative += _values[i];
            if (cumulative >= _options.TopP)
                return i + 1;
        }
        return available;
    }

    private void Renormalise(int count)
    {
        var sum = 0.0;
        for (var i = 0; i < count; i++)
            sum += _values[i];
        var scale = 1 / sum;
        for (var i = 0; i < count; i++)
            _values[i] = (float)(_values[i] * scale);
    }

    private int Draw()
    {
        var total = 0.0;
        for (var i = 0; i < _count; i++)
            total += _values[i];
        var target = _random.NextDouble() * total;
        var cumulative = 0.0;
        for (var i = 0; i < _count; i++)
        {
            cumulative += _values[i];
            if (target < cumulative)
                return _ids[i];
        }
        // Rounding left the target at the very top: the last candidate that can be drawn at all.
        for (var i = _count - 1; i > 0; i--)
        {
            if (_values[i] > 0)
                return _ids[i];
        }
        return _ids[0];
    }

    /// <summary>
    /// Leaves the <paramref name="count"/> largest logits in _values/_ids, best first; equal logits are
    /// ordered by id, so the result is the same as a full stable sort's first <paramref name="count"/>.
    /// A min-heap holds the best so far with the weakest at its root; whole vectors of logits that cannot
    /// beat the root are skipped with one comparison.
    /// </summary>
    private void SelectLargest(ReadOnlySpan<float> logits, int count)
    {
        var ids = _ids;
        var values = _values;
        for (var i = 0; i < count; i++)
        {
            ids[i] = i;
            // A NaN would break the heap's order; it ranks below every real logit instead.
            values[i] = float.IsNaN(logits[i]) ? float.NegativeInfinity : logits[i];
        }
        for (var i = count / 2 - 1; i >= 0; i--)
            SiftDown(values, ids, i, count);

        var next = count;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var weakest = new Vector<float>(values[0]);
            for (; next + width <= logits.Length; next += width)
            {
                if (!Vector.GreaterThanAny(new Vector<float>(logits.Slice(next, width)), weakest))
                    continue;
                for (var i = next; i < next + width; i++)
                    Offer(values, ids, logits[i], i, count);
                weakest = new Vector<float>(values[0]);
            }
        }
        for (; next < logits.Length; next++)
            Offer(values, ids, logits[next], next, count);

        // Heap sort: the weakest goes to the end each time, leaving the best first.
        for (var end = count - 1; end > 0; end--)
        {
            (values[0], values[end]) = (values[end], values[0]);
            (ids[0], ids[end]) = (ids[end], ids[0]);
            SiftDown(values, ids, 0, end);
        }
    }

    // Logits arrive in id order, so an equal logit never displaces the root (which has the smaller id).
    private static void Offer(float[] values, int[] ids, float logit, int id, int count)
    {
        if (logit > values[0])
        {
            values[0] = logit;
            ids[0] = id;
            SiftDown(values, ids, 0, count);
        }
    }

    private static void SiftDown(float[] values, int[] ids, int at, int size)
    {
        var value = values[at];
        var id = ids[at];
        while (true)
        {
            var child = 2 * at + 1;
            if (child >= size)
                break;
            if (child + 1 < size && Weaker(values[child + 1], ids[child + 1], values[child], ids[child]))
                child++;
            if (!Weaker(values[child], ids[child], value, id))
                break;
            values[at] = values[child];
            ids[at] = ids[child];
            at = child;
        }
        values[at] = value;
        ids[at] = id;
    }

    // The weaker candidate has the lower logit, or the same logit and the later id.
    private static bool Weaker(float value, int id, float otherValue, int otherId) =>
        value < otherValue || value == otherValue && id > otherId;

    private static float Max(ReadOnlySpan<float> logits)
    {
        var next = 0;
        var max = float.NegativeInfinity;
        if (Vector.IsHardwareAccelerated && logits.Length >= Vector<float>.Count)
        {
            var width = Vector<float>.Count;
            var lanes = new Vector<float>(float.NegativeInfinity);
            for (; next + width <= logits.Length; next += width)
                lanes = Vector.Max(lanes, new Vector<float>(logits.Slice(next, width)));
            for (var i = 0; i < width; i++)
                max = Math.Max(max, lanes[i]);
        }
        for (; next < logits.Length; next++)
            max = Math.Max(max, logits[next]);
        return max;
    }

    private void Reserve(int count)
    {
        if (_ids.Length >= count)
            return;
        _ids = new int[count];
        _values = new float[count];
    }

    private void ApplyRepetitionPenalty(Span<float> logits, ReadOnlySpan<int> history)
    {
        var penalty = _options.RepetitionPenalty;
        if (penalty == 1f || history.IsEmpty || _options.RepetitionWindow <= 0)
            return;
        var window = history.Length > _options.RepetitionWindow ? history[^_options.RepetitionWindow..] : history;
        var words = (logits.Length + 63) / 64;
        if (_penalised.Length < words)
            _penalised = new ulong[words];
        foreach (var token in window)
        {
            if ((uint)token >= (uint)logits.Length)
                continue;
            ref var word = ref _penalised[token >> 6];
            var bit = 1UL << (token & 63);
            if ((word & bit) != 0)
                continue;
            word |= bit;
            logits[token] = logits[token] > 0 ? logits[token] / penalty : logits[token] * penalty;
        }
        foreach (var token in window)
        {
            if ((uint)token < (uint)logits.Length)
                _penalised[token >> 6] = 0;
        }
    }
}
