using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Inference.Speculative;

/// <summary>
/// Drafts with a local model that shares the target's tokenizer: a separate small model (stories260K for
/// llama2xs-tok512-280K, or the reverse), or a cheaper copy of the target itself (its int4 conversion).
/// It keeps its own KV cache: each round it rolls back to the longest prefix it shares with the accepted history
/// (rejected drafts go, without recompute), feeds what is new, then drafts one token per decode step. With sampling
/// it draws each draft from its own distribution (the target's temperature, top-k and top-p applied to its logits)
/// and hands that distribution on as q; greedy, q is one-hot.
/// </summary>
public sealed class ModelDrafter : IDrafter
{
    private readonly LocalModel _model;
    private readonly bool _ownsModel;
    private readonly ConversationState _state;
    private readonly TokenSampler _sampler;
    private readonly float[] _row;
    private readonly int _sampledVocab;
    private readonly int[] _step = new int[1];
    // Tokens whose keys and values the cache holds, in order, and the history plus drafts so far (the penalty's view).
    private int[] _fed;
    private int _fedCount;
    private int[] _context;

    public ModelDrafter(LocalModel model, SamplingOptions sampling, int capacity, string name, bool ownsModel = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampling);
        _model = model;
        _ownsModel = ownsModel;
        Name = name;
        Capacity = Math.Min(capacity, model.Config.MaxSeqLen);
        _state = model.CreateState(Capacity);
        // The draft's own stream: its draws must not be the target's.
        _sampler = new TokenSampler(sampling with { Seed = sampling.Seed is { } seed ? seed ^ 0xD2AF_7000_0000_0001UL : null });
        _row = new float[model.Config.VocabSize];
        _sampledVocab = Math.Min(model.Config.VocabSize, model.Tokenizer.VocabSize);
        _fed = new int[Math.Min(Capacity, 1024)];
        _context = new int[_fed.Length];
    }

    public string Name { get; }

    /// <summary>Positions the draft's own cache holds; past it the drafter proposes nothing.</summary>
    public int Capacity { get; }

    public LocalModel Model => _model;

    public void Propose(ReadOnlySpan<int> history, int maxTokens, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        draft.Clear();
        maxTokens = Math.Min(Math.Min(maxTokens, draft.MaxTokens), Capacity - history.Length);
        if (maxTokens <= 0 || history.IsEmpty)
            return;
        var common = 0;
        var limit = Math.Min(_fedCount, history.Length);
        while (common < limit && _fed[common] == history[common])
            common++;
        // At least one token goes in, for the logits of the position after the history.
        if (common == history.Length)
            common--;
        _state.Truncate(common);
        _fedCount = common;
        Grow(history.Length + maxTokens);
        history.CopyTo(_context);
        var contextLength = history.Length;
        var feed = history[common..];
        for (var i = 0; i < maxTokens; i++)
        {
            var logits = _model.Forward(feed, _state);
            feed.CopyTo(_fed.AsSpan(_fedCount));
            _fedCount += feed.Length;
            var row = _row.AsSpan(0, _sampledVocab);
            logits[.._sampledVocab].CopyTo(row);
            var token = _sampler.Sample(row, _context.AsSpan(0, contextLength));
            if (_sampler.IsGreedy)
                draft.Add(token);
            else
                draft.Add(token, _sampler.CandidateTokens, _sampler.CandidateProbabilities);
            _context[contextLength++] = token;
            _step[0] = token;
            feed = _step;
        }
    }

    private void Grow(int length)
    {
        if (_fed.Length >= length)
            return;
        var size = Math.Max(length, Math.Min(Capacity + 64, _fed.Length * 2));
        Array.Resize(ref _fed, size);
        Array.Resize(ref _context, size);
    }

    public void Dispose()
    {
        _state.Dispose();
        if (_ownsModel)
            _model.Dispose();
    }
}
