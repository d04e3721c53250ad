namespace EdgeNode.Inference.Speculative;

/// <summary>
/// The tokens a drafter proposes for one round and, when it sampled them, the distribution each was drawn from
/// (q in the acceptance rule), kept sparse: the candidates its sampler left after temperature, top-k and top-p.
/// Every array is sized once for the longest draft and the vocabulary, so a round allocates nothing.
/// </summary>
public sealed class DraftBuffer
{
    private readonly int[][] _candidateIds;
    private readonly float[][] _candidateProbabilities;
    private readonly int[] _candidateCounts;

    public DraftBuffer(int maxTokens, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        MaxTokens = maxTokens;
        VocabSize = vocabSize;
        Tokens = new int[maxTokens];
        _candidateIds = new int[maxTokens][];
        _candidateProbabilities = new float[maxTokens][];
        _candidateCounts = new int[maxTokens];
    }

    public int MaxTokens { get; }
    public int VocabSize { get; }

    /// <summary>Proposed tokens; the first <see cref="Count"/> are this round's.</summary>
    public int[] Tokens { get; }

    public int Count { get; private set; }

    /// <summary>
    /// True when every proposed token came with the distribution it was drawn from. False for deterministic drafters
    /// (n-gram, greedy model, oracle): their q is one-hot on the proposed token, which the verifier assumes when none is sent.
    /// </summary>
    public bool HasDistributions { get; private set; }

    public ReadOnlySpan<int> Proposed => Tokens.AsSpan(0, Count);

    public void Clear()
    {
        Count = 0;
        HasDistributions = true;
    }

    /// <summary>Adds a token drawn from a one-hot (deterministic) proposal.</summary>
    public void Add(int token)
    {
        Tokens[Count++] = token;
        HasDistributions = false;
    }

    /// <summary>Adds a token and the sparse distribution it was drawn from (copied).</summary>
    public void Add(int token, ReadOnlySpan<int> candidateIds, ReadOnlySpan<float> candidateProbabilities)
    {
        var i = Count;
        var ids = _candidateIds[i] ??= new int[Math.Min(VocabSize, Math.Max(candidateIds.Length, 64))];
        if (ids.Length < candidateIds.Length)
            ids = _candidateIds[i] = new int[VocabSize];
        var probabilities = _candidateProbabilities[i] ??= new float[ids.Length];
        if (probabilities.Length < ids.Length)
            probabilities = _candidateProbabilities[i] = new float[ids.Length];
        candidateIds.CopyTo(ids);
        candidateProbabilities.CopyTo(probabilities);
        _candidateCounts[i] = candidateIds.Length;
        Tokens[i] = token;
        Count = i + 1;
    }

    public ReadOnlySpan<int> CandidateIds(int position) => _candidateIds[position].AsSpan(0, _candidateCounts[position]);

    public ReadOnlySpan<float> CandidateProbabilities(int position) => _candidateProbabilities[position].AsSpan(0, _candidateCounts[position]);

    /// <summary>Drops the proposal from <paramref name="count"/> on (a drafter that found fewer tokens than asked).</summary>
    public void Shorten(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count);
        Count = count;
    }
}
