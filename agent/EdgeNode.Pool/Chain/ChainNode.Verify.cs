using System.Diagnostics;
using System.Text.Json;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// Speculative verification through the chain: a client drafts k tokens and sends them with the history the chain
/// has not run yet (<see cref="FrameType.Verify"/>); every node runs all those positions through its slices in one
/// ORT run (<see cref="FrameType.VerifyHidden"/>); the last node applies the acceptance rule
/// (<see cref="DraftVerifier.Decide"/>: greedy, or rejection sampling with the draft's distributions), drops the
/// rejected positions from its cache and sends the <see cref="FrameType.Verdict"/> round the ring. The entry drops
/// them when the verdict passes; every other node when the next round's frame says where the accepted positions end
/// (its FirstPosition), so rolling back costs no frame of its own and nothing is recomputed.
/// <para>
/// A round the entry refuses (a draft too long, a token outside the vocabulary, a position out of step) is answered
/// with an error frame and runs nowhere: the session stays as it was, and so does every other.
/// </para>
/// </summary>
public sealed partial class ChainNode
{
    private string? _tokenizerFingerprint;

    /// <summary>The entry opens a verifier session: caches on every node, the acceptance rule on the last; nothing runs yet.</summary>
    private void OpenVerifierSession(FrameConnection client, ulong id, SessionOpenRequest request, SamplingOptions sampling, HiddenEncoding encoding, bool zstd, int capacity)
    {
        var tokenizer = _slices!.Tokenizer!;
        var config = _slices.Config;
        var sampled = Math.Min(config.VocabSize, tokenizer.VocabSize);
        var history = request.PromptTokens;
        var maxDraft = request.MaxDraft == 0 ? DataPlaneLimits.MaxDraftTokens : request.MaxDraft;
        _tokenizerFingerprint ??= TokenizerFingerprint.Of(tokenizer);
        string? problem = null;
        if (history is null || history.Length == 0)
            problem = "a verifier session needs the accepted history (prompt_tokens, at least BOS)";
        else if (history.Length >= capacity)
            problem = $"the history is {history.Length} tokens; the context of {capacity} leaves no room to generate";
        else if (Array.FindIndex(history, t => (uint)t >= (uint)sampled) is var bad and >= 0)
            problem = $"history token {bad} is {history[bad]}, outside the vocabulary (0..{sampled - 1})";
        else if (maxDraft is < 1 or > DataPlaneLimits.MaxDraftTokens)
            problem = $"max_draft {maxDraft} is outside 1..{DataPlaneLimits.MaxDraftTokens} (drafts per round)";
        else if (request.Tokenizer is { Length: > 0 } theirs && theirs != _tokenizerFingerprint)
            problem = $"the drafts come from tokenizer {theirs}, this pool's model {_plan!.Model} uses {_tokenizerFingerprint}: draft with a model of the same vocabulary";
        else if (request.BenchmarkAcceptance is { } alpha && (alpha is < 0 or > 1 || double.IsNaN(alpha)))
            problem = $"benchmark_acceptance {alpha} is not a probability";
        if (problem is not null)
        {
            Refuse(client, id, ChainErrorCode.BadRequest, problem);
            return;
        }
        var entry = new EntryState
        {
            PromptTokens = history!,
            Generated = [],
            Decoder = tokenizer.CreateDecoder(history![^1]),
            StopTexts = new StopTextFilter([]),
            StopTokens = tokenizer.StopTokens,
            MaxTokens = 0,
            Seed = sampling.Seed!.Value,
            EncodingName = HiddenEncodingNames.ToName(encoding, zstd),
            OpenedTimestamp = Stopwatch.GetTimestamp(),
        };
        var session = new ChainSession(id, client, _slices.CreateCaches(capacity), encoding, zstd, capacity)
        {
            Entry = entry,
            Verify = CreateVerifyState(maxDraft, sampled, sampling, capacity, history, request.BenchmarkAcceptance),
            SampledVocabulary = sampled,
        };
        Add(session);
        if (!IsLast)
        {
            var open = new ChainOpenRequest
            {
                Encoding = encoding, Zstd = zstd, Capacity = capacity,
                Temperature = sampling.Temperature, TopK = sampling.TopK, TopP = sampling.TopP,
                RepetitionPenalty = sampling.RepetitionPenalty, RepetitionWindow = sampling.RepetitionWindow, Seed = entry.Seed,
                PromptTokens = history, SampledVocabulary = sampled,
                Verifier = true, MaxDraft = maxDraft, BenchmarkAcceptance = request.BenchmarkAcceptance,
            };
            var next = Next();
            var bytes = JsonSerializer.SerializeToUtf8Bytes(open, DataPlaneJsonContext.Default.ChainOpenRequest);
            if (next is null || !next.Send(new FrameHeader(FrameType.Open, id, Epoch), bytes))
            {
                FailSession(session, NextLost(next?.CloseReason ?? _nextFailure), notifyDownstream: false);
                return;
            }
        }
        var opened = new VerifierSessionOpened { Context = capacity, MaxDraft = maxDraft, Model = _plan!.Model, Epoch = _plan.Epoch, Hops = _plan.Hops };
        if (!client.Send(new FrameHeader(FrameType.Open, id, Epoch), JsonSerializer.SerializeToUtf8Bytes(opened, DataPlaneJsonContext.Default.VerifierSessionOpened)))
            FailSession(session, new ChainErrorPayload(ChainErrorCode.NodeLost, "", "the client closed its connection"), notifyUpstream: false);
    }

    /// <summary>A verifier session's state on this node; the last node's holds the acceptance rule, reset to the history.</summary>
    private VerifyState CreateVerifyState(int maxDraft, int sampled, SamplingOptions sampling, int capacity, ReadOnlySpan<int> history, double? benchmarkAcceptance)
    {
        if (!IsLast)
            return new VerifyState(maxDraft);
        var verifier = new DraftVerifier(_slices!.Config.VocabSize, sampled, sampling, maxDraft, capacity, benchmarkAcceptance);
        verifier.Reset(history);
        return new VerifyState(maxDraft) { Verifier = verifier, Draft = new DraftBuffer(maxDraft, sampled) };
    }

    /// <summary>The client's round: checked here once, run through the entry's slices, sent on.</summary>
    private void OnClientVerify(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!IsEntry || !_sessions.TryGetValue(header.SessionId, out var session) || session.Verify is not { } verify
            || session.Entry is not { } entry || !ReferenceEquals(session.Upstream, connection))
        {
            Reject(connection, header, FrameRejection.ForeignSession,
                $"no verifier session {header.SessionId:x16} is open for this connection on entry node {NodeId}; open one (an Open with verifier: true) and send the history again",
                ChainErrorCode.ForeignSession);
            return;
        }
        if (entry.AwaitingToken)
        {
            RefuseRound(session, $"session {session.Id:x16} already has a round on the chain; send the next one after its verdict");
            return;
        }
        if (header.FirstPosition != session.Position)
        {
            RefuseRound(session, $"the round starts at position {header.FirstPosition}, but the chain holds {session.Position} positions of session {session.Id:x16}: send the history from position {session.Position}");
            return;
        }
        if (DraftBlock.Check(payload, verify.MaxDraft, session.SampledVocabulary, out var info) is { } problem)
        {
            RefuseRound(session, problem);
            return;
        }
        if (header.PositionCount != info.Tokens)
        {
            RefuseRound(session, $"the header says {header.PositionCount} positions, the draft block holds {info.Tokens}");
            return;
        }
        if (session.Position + info.Tokens > session.Capacity)
        {
            RefuseRound(session, $"the round needs positions {session.Position}..{session.Position + info.Tokens - 1}; the session's context holds {session.Capacity}: draft fewer tokens or end the session");
            return;
        }
        ReadOnlySpan<float> output;
        try
        {
            output = _slices!.RunTokens(DraftBlock.Tokens(payload, info), session.Caches, info.Drafts + 1);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.RunFailed, NodeId, $"node {NodeId} failed to run the embedding and layers [0,{_slices!.Assignment.EndLayer}) over {info.Tokens} positions: {e.Message}"));
            return;
        }
        session.Position += info.Tokens;
        verify.MinNextPosition = session.Position - info.Drafts;
        entry.AwaitingToken = true;
        entry.StepStartedTicks = Environment.TickCount64;
        verify.RoundStartedTimestamp = Stopwatch.GetTimestamp();
        ForwardVerify(session, output, payload, info);
    }

    /// <summary>A round the entry will not run: the client hears why; the session stays as it was.</summary>
    private void RefuseRound(ChainSession session, string reason)
    {
        ChainLog.Rejected(_log, NodeId, session.Upstream.PeerName, "Verify", reason);
        session.Upstream.SendError(session.Id, Epoch, new ChainErrorPayload(ChainErrorCode.BadRequest, NodeId, reason));
    }

    /// <summary>The pass from the node before: roll back to where it starts, run it, send it on (or decide, on the last node).</summary>
    private void OnVerifyHidden(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (IsEntry || !_sessions.TryGetValue(header.SessionId, out var session) || session.Verify is not { } verify || !ReferenceEquals(session.Upstream, connection))
        {
            Reject(connection, header, FrameRejection.ForeignSession,
                $"a verification pass for session {header.SessionId:x16}, which no verifier session opened through this chain holds on node {NodeId}", ChainErrorCode.ForeignSession);
            return;
        }
        ReadOnlySpan<byte> block, encoded;
        DraftBlockInfo info;
        try
        {
            HiddenStateCodec.SplitVerifyPayload(payload, out block, out encoded);
            if (DraftBlock.Check(block, verify.MaxDraft, session.SampledVocabulary, out info) is { } problem)
                throw new InvalidDataException(problem);
            if (header.PositionCount != info.Tokens)
                throw new InvalidDataException($"the header says {header.PositionCount} positions, the draft block holds {info.Tokens}");
        }
        catch (InvalidDataException e)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, NodeId, $"node {NodeId} cannot read the verification pass: {e.Message}"));
            return;
        }
        var first = header.FirstPosition;
        if (first < verify.MinNextPosition || first > session.Position || first + info.Tokens > session.Capacity)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, NodeId,
                $"a verification pass for positions {first}+{info.Tokens}; node {NodeId} holds {session.Position}, of which the first {verify.MinNextPosition} are accepted (context {session.Capacity})"));
            return;
        }
        if (first < session.Position)
        {
            // The last round's verdict: its rejected drafts go (nothing is recomputed).
            NodeSlices.Truncate(session.Caches, first);
            session.Position = first;
        }
        if (!TryReadHidden(session, header, encoded, info.Tokens))
            return;
        var hidden = _hidden.AsSpan(0, info.Tokens * _slices!.Config.Dim);
        ReadOnlySpan<float> output;
        try
        {
            output = _slices.RunHidden(hidden, session.Caches, info.Drafts + 1);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.RunFailed, NodeId, $"node {NodeId} failed to run layers [{_slices.Assignment.FirstLayer},{_slices.Assignment.EndLayer}) over {info.Tokens} positions: {e.Message}"));
            return;
        }
        session.Position += info.Tokens;
        verify.MinNextPosition = session.Position - info.Drafts;
        verify.Rounds = header.Step;
        ForwardVerify(session, output, block, info);
    }

    /// <summary>This node's output of a pass: to the next node with the draft block in front, or (last node) to the decision.</summary>
    private void ForwardVerify(ChainSession session, ReadOnlySpan<float> output, ReadOnlySpan<byte> block, in DraftBlockInfo info)
    {
        if (IsLast)
        {
            Decide(session, output, block, info);
            return;
        }
        var next = Next();
        var header = new FrameHeader(FrameType.VerifyHidden, session.Id, Epoch) { Step = session.Verify!.Rounds, FirstPosition = session.Position - info.Tokens };
        var sent = next is null ? 0 : next.SendVerifyHidden(_codec, header, block, output, _slices!.Config.Dim, session.Encoding, session.Zstd);
        if (sent == 0)
            FailSession(session, NextLost(next?.CloseReason ?? _nextFailure));
    }

    /// <summary>The last node: the acceptance rule over the k + 1 logits rows, the rejected positions dropped, the verdict sent round the ring.</summary>
    private void Decide(ChainSession session, ReadOnlySpan<float> logits, ReadOnlySpan<byte> block, in DraftBlockInfo info)
    {
        var verify = session.Verify!;
        var verifier = verify.Verifier!;
        var started = Stopwatch.GetTimestamp();
        if (session.Position - info.Drafts - 1 != verifier.CachedLength)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Internal, NodeId,
                $"node {NodeId} holds {verifier.History.Length} accepted tokens of session {session.Id:x16}, but the pass put the last of them at position {session.Position - info.Drafts - 1}"));
            return;
        }
        VerifyDecision decision;
        try
        {
            DraftBlock.ReadDraft(block, info, verify.Draft!);
            verifier.Validate(verify.Draft!);
            decision = verifier.Decide(logits, _slices!.Config.VocabSize, verify.Draft!);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or ContextFullException)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.BadRequest, NodeId, $"node {NodeId} cannot verify the draft: {e.Message}"));
            return;
        }
        NodeSlices.Truncate(session.Caches, verifier.CachedLength);
        session.Position = verifier.CachedLength;
        verify.MinNextPosition = session.Position;
        var verdict = new VerdictPayload(decision.Accepted, decision.Token, decision.Examined, (float)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        var header = new FrameHeader(FrameType.Verdict, session.Id, Epoch) { Step = verify.Rounds, FirstPosition = session.Position, PositionCount = decision.Accepted + 1 };
        if (IsEntry)
        {
            OnEntryVerdict(session, header, verdict);
            return;
        }
        var ring = Next();
        if (ring is null || !ring.SendVerdict(header, verdict))
            FailSession(session, NextLost(ring?.CloseReason ?? _nextFailure));
    }

    /// <summary>A verdict came back round the ring to the entry.</summary>
    private void OnVerdict(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!IsEntry || IsClient(connection) || !_sessions.TryGetValue(header.SessionId, out var session) || session.Verify is not { } verify
            || session.Entry is not { AwaitingToken: true } || header.Step != verify.Rounds)
        {
            Reject(connection, header, FrameRejection.ForeignSession,
                $"a verdict for session {header.SessionId:x16} round {header.Step}, which node {NodeId} is not waiting for", ChainErrorCode.ForeignSession);
            return;
        }
        VerdictPayload verdict;
        try
        {
            verdict = VerdictPayload.Read(payload);
        }
        catch (InvalidDataException e)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, connection.PeerName, e.Message));
            return;
        }
        OnEntryVerdict(session, header, verdict);
    }

    /// <summary>The entry drops the rejected positions and hands the verdict to the client, with the round's time on the chain.</summary>
    private void OnEntryVerdict(ChainSession session, in FrameHeader header, VerdictPayload verdict)
    {
        var verify = session.Verify!;
        var entry = session.Entry!;
        var kept = header.FirstPosition;
        if (kept < verify.MinNextPosition || kept > session.Position)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, NodeId,
                $"the verdict keeps {kept} positions; the round left between {verify.MinNextPosition} and {session.Position}"));
            return;
        }
        NodeSlices.Truncate(session.Caches, kept);
        session.Position = kept;
        entry.AwaitingToken = false;
        verify.Rounds++;
        if (entry.FirstTokenTimestamp == 0)
            entry.FirstTokenTimestamp = Stopwatch.GetTimestamp();
        if (entry.Cancelled)
        {
            Finish(session, StopReason.Cancelled);
            return;
        }
        var onChain = (float)Stopwatch.GetElapsedTime(verify.RoundStartedTimestamp).TotalMilliseconds;
        var reply = new FrameHeader(FrameType.Verdict, session.Id, Epoch) { Step = header.Step, FirstPosition = kept, PositionCount = header.PositionCount };
        if (!session.Upstream.SendVerdict(reply, verdict with { Milliseconds = onChain }))
            FailSession(session, new ChainErrorPayload(ChainErrorCode.NodeLost, "", "the client closed its connection"), notifyUpstream: false);
    }
}
