using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Inference.Speculative;

/// <summary>What one verification round decided.</summary>
/// <param name="Accepted">Draft tokens accepted, in order from the first.</param>
/// <param name="Token">The token after them: the target's correction at the first rejected position, or its bonus token when every draft was accepted.</param>
/// <param name="Examined">Draft positions the rule looked at: the accepted ones plus the rejected one (if any).</param>
public readonly record struct VerifyDecision(int Accepted, int Token, int Examined);

/// <summary>
/// One conversation of the target model that verifies drafts: every draft of a round goes through the model in one
/// pass (<see cref="LocalModel.Forward"/> with all positions), the acceptance rule picks how many to keep, and the
/// rejected positions are dropped from the KV cache with <see cref="ConversationState.Truncate"/> (nothing is recomputed).
/// <para>
/// The KV cache holds every history token but the last: the last one goes into the next pass with the drafts, whose
/// first logits row is the distribution after the whole history. So a round with k drafts is one pass over k+1 positions,
/// and a round with none is a plain decode step.
/// </para>
/// <para>
/// Acceptance, greedy (temperature 0): keep drafts while each equals the target's argmax, then emit the argmax at the
/// first mismatch (the correction) or after the last draft (the bonus): the output is the target's greedy output.
/// Sampling: speculative rejection sampling (Leviathan et al. 2023; Chen et al. 2023). Draft x drawn from q is kept with
/// probability min(1, p(x)/q(x)); at the first rejection the token is drawn from norm(max(0, p − q)); after the last
/// draft, from p. Every emitted token is then distributed exactly as the target's own sampling would have drawn it.
/// p is the target's distribution after the session's repetition penalty, temperature, top-k and top-p, as
/// <see cref="TokenSampler"/> computes it; q is the draft's, sent sparse, or one-hot on the draft when none is sent
/// (deterministic drafters: n-gram, greedy models).
/// </para>
/// Buffers are sized once (history to the context, rows to the vocabulary): a round allocates nothing.
/// </summary>
public sealed class DraftVerifier
{
    private readonly TokenSampler _sampler;
    private readonly Xoshiro256StarStar _random;
    private readonly int _sampledVocab;
    private readonly float[] _row;
    private readonly float[] _denseDraft;
    private readonly float[] _targetProbabilities;
    private readonly int[] _input;
    private readonly double? _simulatedAcceptance;
    private int[] _history;
    private int _count;

    /// <param name="vocabSize">The model's logits row width.</param>
    /// <param name="sampledVocab">Ids that may be emitted (the tokenizer's; padding rows past it never are).</param>
    /// <param name="maxDraft">Longest draft a round may carry.</param>
    /// <param name="simulatedAcceptance">
    /// Benchmark only: keep each draft with this probability whatever it is (then emit the target's own token), so the
    /// speed at a given acceptance α can be measured where no real drafter agrees with the target (random weights). The
    /// pass, the rollback and the bytes are the real ones; the text is not the target's. Null (always, outside a bench)
    /// applies the acceptance rules.
    /// </param>
    public DraftVerifier(int vocabSize, int sampledVocab, SamplingOptions sampling, int maxDraft, int capacity, double? simulatedAcceptance = null)
    {
        if (simulatedAcceptance is { } alpha && (alpha is < 0 or > 1 || double.IsNaN(alpha)))
            throw new ArgumentOutOfRangeException(nameof(simulatedAcceptance), alpha, "a simulated acceptance is a probability: 0..1");
        _simulatedAcceptance = simulatedAcceptance;
        ArgumentNullException.ThrowIfNull(sampling);
        _sampler = new TokenSampler(sampling);
        // Its own stream, apart from the sampler's, so a seed repeats the same acceptance decisions.
        _random = new Xoshiro256StarStar(_sampler.Seed ^ 0x5EC0_1A7E_D0C0_FFEEUL);
        VocabSize = vocabSize;
        _sampledVocab = Math.Min(vocabSize, sampledVocab);
        MaxDraft = maxDraft;
        Capacity = capacity;
        _row = new float[vocabSize];
        _denseDraft = new float[vocabSize];
        _targetProbabilities = new float[maxDraft];
        _input = new int[maxDraft + 1];
        _history = new int[Math.Min(capacity, 1024)];
    }

    public int VocabSize { get; }
    public int MaxDraft { get; }

    /// <summary>Positions the conversation may hold.</summary>
    public int Capacity { get; }

    public bool IsGreedy => _sampler.IsGreedy;

    /// <summary>The accepted history: prompt, then every accepted draft and emitted token.</summary>
    public ReadOnlySpan<int> History => _history.AsSpan(0, _count);

    /// <summary>Positions the KV cache must hold before a round: the history but its last token.</summary>
    public int CachedLength => _count - 1;

    /// <summary>p(draft) at each examined position of the last round (sampling only; 1 or 0 when greedy).</summary>
    public ReadOnlySpan<float> TargetProbabilities => _targetProbabilities.AsSpan(0, _lastExamined);

    private int _lastExamined;

    /// <summary>Starts (or restarts) the conversation at <paramref name="tokens"/>; the KV cache must then be filled with <see cref="Prefill"/>.</summary>
    public void Reset(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("a verifier session needs at least one token (BOS)", nameof(tokens));
        if (tokens.Length >= Capacity)
            throw new ArgumentException($"the history is {tokens.Length} tokens; the session's context holds {Capacity}, leaving no room to generate");
        EnsureHistory(tokens.Length + MaxDraft + 1);
        tokens.CopyTo(_history);
        _count = tokens.Length;
    }

    /// <summary>Brings <paramref name="state"/> up to <see cref="CachedLength"/> (all at once, or after an eviction from the tail it still holds).</summary>
    public void Prefill(LocalModel model, ConversationState state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        if (state.Length > CachedLength)
            state.Truncate(CachedLength);
        if (state.Length < CachedLength)
            model.Forward(_history.AsSpan(state.Length, CachedLength - state.Length), state);
    }

    /// <summary>
    /// Verifies <paramref name="draft"/> in one pass of <paramref name="model"/> over <paramref name="state"/> (which must hold
    /// <see cref="CachedLength"/> positions) and appends the accepted drafts and the emitted token to the history.
    /// </summary>
    /// <exception cref="ArgumentException">The draft is too long, or a q gives its own token no probability.</exception>
    /// <exception cref="ContextFullException">The pass would not fit the context.</exception>
    public VerifyDecision Verify(LocalModel model, ConversationState state, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        Validate(draft);
        if (state.Length != CachedLength)
            throw new InvalidOperationException($"the KV cache holds {state.Length} positions, the session needs {CachedLength}; prefill it first");
        var k = draft.Count;
        _input[0] = _history[_count - 1];
        draft.Proposed.CopyTo(_input.AsSpan(1));
        var logits = model.Forward(_input.AsSpan(0, k + 1), state, allPositions: true);
        var decision = Decide(logits, model.Config.VocabSize, draft);
        // The pass wrote k+1 positions (the old last token and every draft); the accepted ones stay.
        state.Truncate(_count - 1);
        return decision;
    }

    /// <summary>
    /// Checks a round's draft before any pass runs: its length against <see cref="MaxDraft"/> and the context, every
    /// token and every candidate of its distributions against the vocabulary.
    /// </summary>
    /// <exception cref="ArgumentException">The draft is too long or names a token outside the vocabulary.</exception>
    /// <exception cref="ContextFullException">The pass would not fit the context.</exception>
    public void Validate(DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var k = draft.Count;
        if (k > MaxDraft)
            throw new ArgumentException($"the draft has {k} tokens; at most {MaxDraft} are verified per round");
        if (_count + k > Capacity)
            throw new ContextFullException(Capacity, _count, k + 1);
        for (var i = 0; i < k; i++)
        {
            if ((uint)draft.Tokens[i] >= (uint)_sampledVocab)
                throw new ArgumentOutOfRangeException(nameof(draft), $"draft token {i} is {draft.Tokens[i]}, outside the vocabulary (0..{_sampledVocab - 1})");
            if (!draft.HasDistributions)
                continue;
            foreach (var id in draft.CandidateIds(i))
            {
                if ((uint)id >= (uint)_sampledVocab)
                    throw new ArgumentOutOfRangeException(nameof(draft), $"the draft distribution at position {i} names token {id}, outside the vocabulary (0..{_sampledVocab - 1})");
            }
        }
    }

    /// <summary>
    /// The acceptance rule over a pass that already ran: <paramref name="logits"/> holds k+1 rows of
    /// <paramref name="rowWidth"/> (after the history's last token, then after each draft), wherever they were
    /// computed (this process, or the last node of a pool chain). Appends the accepted drafts and the emitted token to
    /// the history; the caller drops the rejected positions from its KV cache (to <see cref="CachedLength"/>).
    /// The draft must have passed <see cref="Validate"/>.
    /// </summary>
    public VerifyDecision Decide(ReadOnlySpan<float> logits, int rowWidth, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        var k = draft.Count;
        if (logits.Length < (k + 1) * rowWidth || rowWidth < _sampledVocab)
            throw new ArgumentException($"{k + 1} logits rows of {rowWidth} are needed, {logits.Length} values given", nameof(logits));
        EnsureHistory(_count + k + 1);
        // Drafts go into the history ahead of the decision, so the repetition penalty at position i sees d1..di.
        draft.Proposed.CopyTo(_history.AsSpan(_count));
        var accepted = 0;
        var token = -1;
        for (var i = 0; i <= k; i++)
        {
            var row = _row.AsSpan(0, _sampledVocab);
            logits.Slice(i * rowWidth, _sampledVocab).CopyTo(row);
            var random = _sampler.Distribution(row, _history.AsSpan(0, _count + i));
            var ids = _sampler.CandidateTokens;
            var probabilities = _sampler.CandidateProbabilities;
            if (i == k)
            {
                token = random ? Draw(ids, probabilities) : ids[0];
                break;
            }
            var proposed = draft.Tokens[i];
            if (_simulatedAcceptance is { } alpha)
            {
                _targetProbabilities[i] = (float)alpha;
                if (_random.NextDouble() < alpha)
                {
                    accepted++;
                    continue;
                }
                token = random ? Draw(ids, probabilities) : ids[0];
                break;
            }
            if (!random)
            {
                _targetProbabilities[i] = proposed == ids[0] ? 1 : 0;
                if (proposed == ids[0])
                {
                    accepted++;
                    continue;
                }
                token = ids[0];
                break;
            }
            var p = ProbabilityOf(ids, probabilities, proposed);
            _targetProbabilities[i] = p;
            var q = draft.HasDistributions ? ProbabilityOf(draft.CandidateIds(i), draft.CandidateProbabilities(i), proposed) : 1f;
            if (!(q > 0))
                throw new ArgumentException($"draft token {i} ({proposed}) has probability {q} in the draft distribution sent with it; send the distribution it was drawn from");
            // Kept with probability min(1, p/q): u·q < p for u uniform in [0, 1).
            if (_random.NextDouble() * q < p)
            {
                accepted++;
                continue;
            }
            token = draft.HasDistributions
                ? DrawResidual(ids, probabilities, draft.CandidateIds(i), draft.CandidateProbabilities(i))
                : DrawResidualOneHot(ids, probabilities, proposed);
            break;
        }
        _history[_count + accepted] = token;
        _count += accepted + 1;
        _lastExamined = accepted + (accepted < k ? 1 : 0);
        return new VerifyDecision(accepted, token, _lastExamined);
    }

    private static float ProbabilityOf(ReadOnlySpan<int> ids, ReadOnlySpan<float> probabilities, int token)
    {
        var at = ids.IndexOf(token);
        return at < 0 ? 0 : probabilities[at];
    }

    private int Draw(ReadOnlySpan<int> ids, ReadOnlySpan<float> probabilities)
    {
        var total = 0.0;
        foreach (var p in probabilities)
            total += p;
        var target = _random.NextDouble() * total;
        var cumulative = 0.0;
        for (var i = 0; i < ids.Length; i++)
        {
            cumulative += probabilities[i];
            if (target < cumulative)
                return ids[i];
        }
        return ids[0];
    }

    /// <summary>Draws from norm(max(0, p − q)) where q is one-hot on <paramref name="rejected"/>: p without that token.</summary>
    private int DrawResidualOneHot(ReadOnlySpan<int> ids, ReadOnlySpan<float> probabilities, int rejected)
    {
        var total = 0.0;
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] != rejected)
                total += probabilities[i];
        }
        if (!(total > 0))
            return Draw(ids, probabilities);
        var target = _random.NextDouble() * total;
        var cumulative = 0.0;
        var last = ids[0];
        for (var i = 0; i < ids.Length; i++)
        {
            if (ids[i] == rejected)
                continue;
            last = ids[i];
            cumulative += probabilities[i];
            if (target < cumulative)
                return ids[i];
        }
        return last;
    }

    /// <summary>Draws from norm(max(0, p − q)), q scattered into a dense row for the lookups and cleared after.</summary>
    private int DrawResidual(ReadOnlySpan<int> ids, ReadOnlySpan<float> probabilities, ReadOnlySpan<int> draftIds, ReadOnlySpan<float> draftProbabilities)
    {
        for (var i = 0; i < draftIds.Length; i++)
            _denseDraft[draftIds[i]] = draftProbabilities[i];
        try
        {
            var total = 0.0;
            for (var i = 0; i < ids.Length; i++)
                total += Math.Max(0f, probabilities[i] - _denseDraft[ids[i]]);
            // p ≤ q everywhere only when p = q, where rejection has probability 0; rounding can still land here.
            if (!(total > 0))
                return Draw(ids, probabilities);
            var target = _random.NextDouble() * total;
            var cumulative = 0.0;
            var last = ids[0];
            for (var i = 0; i < ids.Length; i++)
            {
                var residual = Math.Max(0f, probabilities[i] - _denseDraft[ids[i]]);
                if (residual <= 0)
                    continue;
                last = ids[i];
                cumulative += residual;
                if (target < cumulative)
                    return ids[i];
            }
            return last;
        }
        finally
        {
            foreach (var id in draftIds)
                _denseDraft[id] = 0;
        }
    }

    private void EnsureHistory(int length)
    {
        if (_history.Length >= length)
            return;
        Array.Resize(ref _history, Math.Max(length, Math.Min(Capacity + MaxDraft + 1, _history.Length * 2)));
    }

}
