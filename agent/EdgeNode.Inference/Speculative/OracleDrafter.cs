using EdgeNode.Inference.Sampling;

namespace EdgeNode.Inference.Speculative;

/// <summary>
/// Benchmark only: proposes the target's own next token with probability α and a wrong one otherwise, each position
/// independently (seeded), at no drafting cost. With random weights (the only weights at realistic shapes here) no
/// real drafter agrees with the target, so this is what makes the speedup curve over α, k and the round trip honest
/// and reproducible: acceptance is exactly the i.i.d. α of the textbook analysis, and the target's work is real.
/// It knows the target's next tokens from a reference run of the target (greedy, the same prompt), so it drafts only
/// for greedy verification along that reference; off it, it proposes nothing.
/// </summary>
public sealed class OracleDrafter : IDrafter
{
    private readonly int[] _reference;
    private readonly int _vocabSize;
    private readonly Xoshiro256StarStar _random;

    /// <param name="reference">Prompt and the target's greedy continuation.</param>
    public OracleDrafter(int[] reference, double alpha, int vocabSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (alpha is < 0 or > 1 || double.IsNaN(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α is a probability: 0..1");
        _reference = reference;
        Alpha = alpha;
        _vocabSize = vocabSize;
        _random = new Xoshiro256StarStar(seed);
    }

    public double Alpha { get; }

    public string Name => $"oracle({Alpha:0.##})";

    public void Propose(ReadOnlySpan<int> history, int maxTokens, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        draft.Clear();
        maxTokens = Math.Min(Math.Min(maxTokens, draft.MaxTokens), _reference.Length - history.Length);
        if (maxTokens <= 0 || !history.SequenceEqual(_reference.AsSpan(0, history.Length)))
            return;
        for (var i = 0; i < maxTokens; i++)
        {
            var right = _reference[history.Length + i];
            // A wrong token is any other id; the next one up is as wrong as any.
            draft.Add(_random.NextDouble() < Alpha ? right : (right + 1) % _vocabSize);
        }
    }

    public void Dispose()
    {
    }
}
