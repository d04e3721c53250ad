using System.Diagnostics;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Inference.Speculative;

/// <summary>The target model in this process: speculative decoding without a network (tests, and the bench's reference).</summary>
public sealed class LocalVerifierSession : IVerifierSession
{
    private readonly LocalModel _model;
    private readonly SamplingOptions _sampling;
    private readonly int _capacity;
    private readonly int _maxDraft;
    private ConversationState? _state;
    private DraftVerifier? _verifier;

    public LocalVerifierSession(LocalModel model, SamplingOptions sampling, int capacity, int maxDraft)
    {
        _model = model;
        _sampling = sampling;
        _capacity = Math.Min(capacity, model.Config.MaxSeqLen);
        _maxDraft = maxDraft;
    }

    /// <summary>Target passes run so far (one per round, plus one per open for the prefill).</summary>
    public int Passes { get; private set; }

    public int Open(ReadOnlySpan<int> history)
    {
        _state?.Dispose();
        _state = _model.CreateState(_capacity);
        _verifier = new DraftVerifier(_model.Config.VocabSize, _model.Tokenizer.VocabSize, _sampling, _maxDraft, _capacity);
        _verifier.Reset(history);
        if (_verifier.CachedLength > 0)
            Passes++;
        _verifier.Prefill(_model, _state);
        return _capacity;
    }

    public VerifyRound Verify(DraftBuffer draft)
    {
        if (_verifier is null || _state is null)
            throw new VerifierSessionLostException("the session is not open");
        var clock = Stopwatch.StartNew();
        var decision = _verifier.Verify(_model, _state, draft);
        Passes++;
        return new VerifyRound(decision, clock.Elapsed.TotalSeconds);
    }

    public void Dispose() => _state?.Dispose();
}
