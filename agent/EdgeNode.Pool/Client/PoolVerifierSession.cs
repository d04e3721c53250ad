using System.Text.Json;
using EdgeNode.Inference.Speculative;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Client;

/// <summary>
/// A pool chain as the verifier of speculative decoding: the drafting side's <see cref="SpeculativeGenerator"/> loop
/// (drafters, acceptance accounting, adaptive draft length) runs unchanged against it. Each round is one
/// <see cref="FrameType.Verify"/> frame to the entry carrying the history the chain has not run yet and the k drafts;
/// the chain runs them through every node in one pass and answers with a <see cref="FrameType.Verdict"/>. The first
/// round after an open carries the whole history, so the prompt's prefill rides in the same pass as the first drafts.
/// <para>
/// A session the chain lost (a node gone, a re-plan, the entry forgot it) surfaces as
/// <see cref="VerifierSessionLostException"/>, which the generator answers by reopening with its history; a round the
/// entry refuses (bad input) as <see cref="PoolChainException"/>. A round allocates nothing: the frame is written
/// into a buffer sized once, and the answer is handed over through fields and a semaphore.
/// </para>
/// </summary>
public sealed class PoolVerifierSession : IVerifierSession
{
    private readonly PoolClient _client;
    private readonly PoolVerifierOptions _options;
    private readonly SemaphoreSlim _arrived = new(0);
    private int[] _history = new int[256];
    private int _count;
    private int _cached;
    private int _rounds;
    private byte[] _block = new byte[1024];
    private ulong _id;
    private int _disposed;

    // The answer, written by the connection's reader before it releases _arrived.
    private ReplyKind _kind;
    private VerdictPayload _verdict;
    private int _verdictStep;
    private int _verdictKept;
    private ChainErrorPayload _error;
    private VerifierSessionOpened? _opened;

    internal PoolVerifierSession(PoolClient client, PoolVerifierOptions options)
    {
        if (options.MaxDraft is < 1 or > DataPlaneLimits.MaxDraftTokens)
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDraft, $"a pool verifies 1..{DataPlaneLimits.MaxDraftTokens} drafts per round");
        _client = client;
        _options = options;
    }

    /// <summary>What the entry said when the last session opened (context, model, epoch, hops).</summary>
    public VerifierSessionOpened? Opened => _opened;

    /// <summary>The session's id on the chain (0 before the first open).</summary>
    public ulong SessionId => _id;

    public int Open(ReadOnlySpan<int> history)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (history.IsEmpty)
            throw new ArgumentException("a verifier session needs at least one token (BOS)", nameof(history));
        EndCurrent();
        EnsureHistory(history.Length + _options.MaxDraft + 1);
        history.CopyTo(_history);
        _count = history.Length;
        _cached = 0;
        _rounds = 0;
        _id = _client.RegisterVerifier(this);
        var request = new SessionOpenRequest
        {
            Verifier = true,
            PromptTokens = history.ToArray(),
            MaxDraft = _options.MaxDraft,
            Tokenizer = _options.Tokenizer,
            BenchmarkAcceptance = _options.BenchmarkAcceptance,
            Temperature = _options.Sampling.Temperature,
            TopK = _options.Sampling.TopK,
            TopP = _options.Sampling.TopP,
            RepetitionPenalty = _options.Sampling.RepetitionPenalty,
            RepetitionWindow = _options.Sampling.RepetitionWindow,
            Seed = _options.Sampling.Seed,
            Encoding = HiddenEncodingNames.ToName(_options.Encoding, _options.Zstd),
            ContextLength = _options.ContextLength,
            MaxTokens = 0,
        };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request, DataPlaneJsonContext.Default.SessionOpenRequest);
        if (!_client.SendFrame(new FrameHeader(FrameType.Open, _id, 0), bytes))
            throw new VerifierSessionLostException($"the connection to the pool's entry {_client.EntryEndpoint} is gone");
        while (true)
        {
            switch (Wait("the session's open"))
            {
                case ReplyKind.Opened:
                    return _opened!.Context;
                case ReplyKind.Error:
                    throw Failure(_error);
            }
        }
    }

    public VerifyRound Verify(DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_id == 0)
            throw new VerifierSessionLostException("no session is open");
        var context = _history.AsSpan(_cached, _count - _cached);
        var length = DraftBlock.Length(context.Length, draft);
        if (_block.Length < length)
            _block = new byte[Math.Max(length, 2 * _block.Length)];
        var written = DraftBlock.Write(_block, context, draft);
        var header = new FrameHeader(FrameType.Verify, _id, 0) { Step = _rounds, FirstPosition = _cached, PositionCount = context.Length + draft.Count };
        if (!_client.SendFrame(header, _block.AsSpan(0, written)))
            throw new VerifierSessionLostException($"the connection to the pool's entry {_client.EntryEndpoint} is gone");
        while (true)
        {
            switch (Wait("a verdict"))
            {
                case ReplyKind.Verdict when _verdictStep == _rounds:
                    var v = _verdict;
                    if (v.Accepted < 0 || v.Accepted > draft.Count || _verdictKept != _count + v.Accepted)
                        throw new PoolChainException(ChainErrorCode.Malformed, _client.EntryNodeId,
                            $"the pool's verdict keeps {_verdictKept} positions with {v.Accepted} of {draft.Count} drafts accepted; {_count + v.Accepted} were expected");
                    EnsureHistory(_count + draft.Count + 1);
                    draft.Proposed[..v.Accepted].CopyTo(_history.AsSpan(_count));
                    _count += v.Accepted;
                    _history[_count++] = v.Token;
                    _cached = _verdictKept;
                    _rounds++;
                    return new VerifyRound(new VerifyDecision(v.Accepted, v.Token, v.Examined), v.Milliseconds / 1000.0);
                case ReplyKind.Error:
                    throw Failure(_error);
            }
        }
    }

    /// <summary>The accepted history as this side holds it.</summary>
    public ReadOnlySpan<int> History => _history.AsSpan(0, _count);

    private ReplyKind Wait(string what)
    {
        if (!_arrived.Wait(_options.ReplyDeadline))
        {
            EndCurrent();
            throw new VerifierSessionLostException($"no answer from the pool's entry {_client.EntryEndpoint} for {what} within {_options.ReplyDeadline.TotalSeconds:0} s");
        }
        return _kind;
    }

    private Exception Failure(ChainErrorPayload error)
    {
        // Input the pool refuses stays refused; anything that lost the session is worth a reopen with the history.
        if (error.Code is ChainErrorCode.BadRequest)
            return new PoolChainException(error.Code, error.NodeId, error.Message);
        EndCurrent();
        return new VerifierSessionLostException($"pool: {error}");
    }

    // --- on the connection's reader ---

    internal void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        try
        {
            switch (header.Type)
            {
                case FrameType.Open:
                    _opened = JsonSerializer.Deserialize(payload, DataPlaneJsonContext.Default.VerifierSessionOpened)
                        ?? throw new InvalidDataException("an empty answer to the open");
                    _kind = ReplyKind.Opened;
                    break;
                case FrameType.Verdict:
                    _verdict = VerdictPayload.Read(payload);
                    _verdictStep = header.Step;
                    _verdictKept = header.FirstPosition;
                    _kind = ReplyKind.Verdict;
                    break;
                case FrameType.Error:
                    _error = ChainErrorPayload.Read(payload);
                    _kind = ReplyKind.Error;
                    break;
                case FrameType.End:
                    _error = new ChainErrorPayload(ChainErrorCode.NoPlan, _client.EntryNodeId, "the entry ended the session");
                    _kind = ReplyKind.Error;
                    break;
                default:
                    return;
            }
        }
        catch (Exception e) when (e is InvalidDataException or JsonException)
        {
            _error = new ChainErrorPayload(ChainErrorCode.Malformed, _client.EntryNodeId, $"the entry sent an unreadable {header.Type} frame: {e.Message}");
            _kind = ReplyKind.Error;
        }
        _arrived.Release();
    }

    internal void OnConnectionLost(string reason)
    {
        _error = new ChainErrorPayload(ChainErrorCode.NodeLost, _client.EntryNodeId, $"the connection to the entry at {_client.EntryEndpoint} is gone: {reason}");
        _kind = ReplyKind.Error;
        _arrived.Release();
    }

    private void EndCurrent()
    {
        if (_id == 0)
            return;
        _client.SendFrame(new FrameHeader(FrameType.End, _id, 0), default);
        _client.UnregisterVerifier(_id);
        _id = 0;
        // Answers to the ended session are dropped from here on; one already signalled is not for the next.
        while (_arrived.CurrentCount > 0)
            _arrived.Wait(0);
    }

    private void EnsureHistory(int length)
    {
        if (_history.Length < length)
            Array.Resize(ref _history, Math.Max(length, 2 * _history.Length));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        EndCurrent();
        _arrived.Dispose();
    }

    private enum ReplyKind { None, Opened, Verdict, Error }
}
