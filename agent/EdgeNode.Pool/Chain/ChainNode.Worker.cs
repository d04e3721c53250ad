using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.DataPlane;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Pool.Chain;

/// <summary>The worker thread: sessions, slices and the frames that move them along the chain.</summary>
public sealed partial class ChainNode
{
    private bool IsEntry => _hop == 0;
    private bool IsLast => _plan is not null && _hop == _plan.Hops - 1;
    private string NextNodeId => _plan is null ? "?" : _plan.Assignments[(_hop + 1) % _plan.Hops].NodeId;

    private void WorkerLoop()
    {
        while (true)
        {
            var work = _queue.Take();
            if (work.Kind == ChainWorkKind.Stop)
                return;
            try
            {
                switch (work.Kind)
                {
                    case ChainWorkKind.Frame:
                        OnFrame(work);
                        break;
                    case ChainWorkKind.ConnectionClosed:
                        OnConnectionClosed(work.Connection!, (string)work.State!);
                        break;
                    case ChainWorkKind.Plan:
                        OnPlan((PlanChange)work.State!);
                        break;
                    case ChainWorkKind.Deadlines:
                        CheckDeadlines();
                        break;
                    case ChainWorkKind.Threads:
                        OnThreads((ThreadsRequest)work.State!);
                        break;
                }
            }
            catch (Exception e)
            {
                // A bug in handling one frame must not take the node down with every other session.
                ChainLog.WorkFailed(_log, e, NodeId, work.Header.Type.ToString(), work.Header.SessionId);
                if (work.Kind == ChainWorkKind.Frame && _sessions.TryGetValue(work.Header.SessionId, out var session))
                    FailSession(session, new ChainErrorPayload(ChainErrorCode.Internal, NodeId, $"node {NodeId} failed: {e.Message}"));
            }
            finally
            {
                if (work.Payload is not null)
                    ArrayPool<byte>.Shared.Return(work.Payload);
                if (work.Kind == ChainWorkKind.Frame)
                {
                    Interlocked.Exchange(ref _workerAllocatedBytes, GC.GetAllocatedBytesForCurrentThread());
                    Interlocked.Increment(ref _framesProcessed);
                }
            }
        }
    }

    private void OnPlan(PlanChange change)
    {
        var oldEpoch = Epoch;
        var epochChanged = change.Plan.Epoch != oldEpoch;
        if (epochChanged && _sessions.Count > 0)
        {
            foreach (var session in _sessions.Values.ToList())
            {
                FailSession(session, new ChainErrorPayload(ChainErrorCode.NoPlan, NodeId,
                    $"the pool re-planned (epoch {oldEpoch} -> {change.Plan.Epoch}) while the session ran; start it again"), notifyDownstream: false);
            }
        }
        var nextEndpoint = change.Plan.Assignments[(change.Hop + 1) % change.Plan.Hops].DataEndpoint;
        var oldNext = _plan is null ? null : _plan.Assignments[(_hop + 1) % _plan.Hops].DataEndpoint;
        if (_next is not null && (oldNext != nextEndpoint || change.Plan.Hops == 1))
        {
            _next.CloseGracefully($"node {NodeId} has a new next hop in epoch {change.Plan.Epoch}");
            _next = null;
        }
        if (!ReferenceEquals(_slices, change.Slices))
        {
            _slices?.Dispose();
            _slices = change.Slices;
        }
        _plan = change.Plan;
        _hop = change.Hop;
        NodeId = change.NodeId;
        Interlocked.Exchange(ref _epoch, change.Plan.Epoch);
        if (change.Slices.Threads != _threads)
        {
            // A thread step came while the plan's slices were being opened: they follow it before any frame of the plan.
            try
            {
                Reopen(_threads, $"the plan's slices were opened with {change.Slices.Threads} threads, the node runs with {_threads}");
            }
            catch (Exception e) when (!change.Slices.IsLoaded)
            {
                change.Applied.TrySetException(e);
            }
            catch (Exception)
            {
                // Logged; the slices run with their old count, and the next step tries again.
            }
        }
        var a = change.Plan.Assignments[change.Hop];
        var role = (a.Embed ? " + embedding, tokenizer" : "") + (a.Head ? " + head, sampling" : "");
        ChainLog.PlanApplied(_log, NodeId, change.Plan.Epoch, change.Hop + 1, change.Plan.Hops, a.FirstLayer, a.EndLayer, role, string.Join(", ", change.Slices.Files));
        change.Applied.TrySetResult();
    }

    private void OnFrame(in ChainWork work)
    {
        var connection = work.Connection!;
        var header = work.Header;
        switch (header.Type)
        {
            case FrameType.Open:
                if (IsClient(connection))
                    OnClientOpen(connection, header, work.PayloadSpan);
                else
                    OnChainOpen(connection, header, work.PayloadSpan);
                break;
            case FrameType.Hidden:
                OnHidden(connection, header, work.PayloadSpan);
                break;
            case FrameType.Token:
                OnToken(connection, header, work.PayloadSpan);
                break;
            case FrameType.Verify:
                OnClientVerify(connection, header, work.PayloadSpan);
                break;
            case FrameType.VerifyHidden:
                OnVerifyHidden(connection, header, work.PayloadSpan);
                break;
            case FrameType.Verdict:
                OnVerdict(connection, header, work.PayloadSpan);
                break;
            case FrameType.End:
                OnEnd(connection, header);
                break;
            case FrameType.Error:
                OnError(connection, header, work.PayloadSpan);
                break;
            default:
                Reject(connection, header, FrameRejection.Malformed, $"frame type {(int)header.Type} is not one a chain node takes", ChainErrorCode.Malformed);
                break;
        }
    }

    /// <summary>A node before this one opens a session: hold its caches here and pass the Open on.</summary>
    private void OnChainOpen(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (IsEntry)
        {
            Reject(connection, header, FrameRejection.Malformed, "the entry node opens sessions for clients only, not for other nodes", ChainErrorCode.Malformed);
            return;
        }
        if (_sessions.ContainsKey(header.SessionId))
        {
            Reject(connection, header, FrameRejection.Malformed, $"session {header.SessionId:x16} is already open on node {NodeId}", ChainErrorCode.BadRequest);
            return;
        }
        ChainOpenRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(payload, DataPlaneJsonContext.Default.ChainOpenRequest);
        }
        catch (JsonException e)
        {
            Reject(connection, header, FrameRejection.Malformed, $"the Open payload is not valid JSON: {e.Message}", ChainErrorCode.Malformed);
            return;
        }
        if (request is null || request.Capacity <= 0 || request.Capacity > _slices!.Config.MaxSeqLen)
        {
            Reject(connection, header, FrameRejection.Malformed, $"the Open asks for a context of {request?.Capacity} positions; this model holds 1..{_slices!.Config.MaxSeqLen}", ChainErrorCode.BadRequest);
            return;
        }
        if (_sessions.Count >= _options.MaxSessions)
        {
            connection.SendError(header.SessionId, Epoch, new ChainErrorPayload(ChainErrorCode.Busy, NodeId, $"node {NodeId} holds its limit of {_options.MaxSessions} sessions; retry later"));
            return;
        }
        VerifyState? verify = null;
        if (request.Verifier)
        {
            var sampled = request.SampledVocabulary > 0 ? Math.Min(request.SampledVocabulary, _slices.Config.VocabSize) : _slices.Config.VocabSize;
            if (request.MaxDraft is < 1 or > DataPlaneLimits.MaxDraftTokens || request.PromptTokens.Length == 0 || request.PromptTokens.Length >= request.Capacity)
            {
                Reject(connection, header, FrameRejection.Malformed,
                    $"a verifier Open with max_draft {request.MaxDraft} (1..{DataPlaneLimits.MaxDraftTokens}) and {request.PromptTokens.Length} history tokens for a context of {request.Capacity}", ChainErrorCode.BadRequest);
                return;
            }
            verify = CreateVerifyState(request.MaxDraft, sampled, SamplingOf(request), request.Capacity, request.PromptTokens, request.BenchmarkAcceptance);
        }
        var session = new ChainSession(header.SessionId, connection, _slices.CreateCaches(request.Capacity), request.Encoding, request.Zstd, request.Capacity)
        {
            Sampler = IsLast && !request.Verifier ? new TokenSampler(SamplingOf(request)) : null,
            History = IsLast && !request.Verifier ? new List<int>(request.PromptTokens) : null,
            SampledVocabulary = request.SampledVocabulary > 0 ? Math.Min(request.SampledVocabulary, _slices.Config.VocabSize) : _slices.Config.VocabSize,
            Verify = verify,
        };
        Add(session);
        if (!IsLast)
        {
            var next = Next();
            if (next is null || !next.Send(header, payload))
                FailSession(session, NextLost(next?.CloseReason ?? _nextFailure));
        }
    }

    private static SamplingOptions SamplingOf(ChainOpenRequest request) => new()
    {
        Temperature = request.Temperature,
        TopK = request.TopK,
        TopP = request.TopP,
        RepetitionPenalty = request.RepetitionPenalty,
        RepetitionWindow = request.RepetitionWindow,
        Seed = request.Seed,
    };

    /// <summary>Hidden states from the previous node: run this node's layers, then pass them on or sample.</summary>
    private void OnHidden(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!_sessions.TryGetValue(header.SessionId, out var session) || IsEntry || !ReferenceEquals(session.Upstream, connection))
        {
            Reject(connection, header, FrameRejection.ForeignSession,
                $"hidden states for session {header.SessionId:x16}, which was not opened through this chain on node {NodeId}", ChainErrorCode.ForeignSession);
            return;
        }
        if (session.Verify is not null)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, NodeId,
                $"plain hidden states for verifier session {session.Id:x16}: its passes come as VerifyHidden frames"));
            return;
        }
        if (header.FirstPosition != session.Position || header.PositionCount <= 0 || header.PositionCount > session.Capacity - session.Position)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, NodeId,
                $"hidden states for positions {header.FirstPosition}+{header.PositionCount}, node {NodeId} expected position {session.Position} (context {session.Capacity})"));
            return;
        }
        if (!TryReadHidden(session, header, payload, header.PositionCount))
            return;
        var hidden = _hidden.AsSpan(0, header.PositionCount * _slices!.Config.Dim);
        ReadOnlySpan<float> output;
        try
        {
            output = _slices.RunHidden(hidden, session.Caches);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.RunFailed, NodeId, $"node {NodeId} failed to run layers [{_slices.Assignment.FirstLayer},{_slices.Assignment.EndLayer}): {e.Message}"));
            return;
        }
        session.Position += header.PositionCount;
        Forward(session, output, header.PositionCount, header.Step);
    }

    /// <summary>Passes this node's output on: hidden states to the next node, or (last node) the sampled token to the entry.</summary>
    private void Forward(ChainSession session, ReadOnlySpan<float> output, int positions, int step)
    {
        if (IsLast)
        {
            var token = Sample(session, output);
            session.Step = step + 1;
            if (IsEntry)
            {
                OnSampled(session, token);
                return;
            }
            var header = new FrameHeader(FrameType.Token, session.Id, Epoch) { Step = step, FirstPosition = session.Position, PositionCount = 1 };
            var ring = Next();
            if (ring is null || !ring.SendToken(header, token, null))
                FailSession(session, NextLost(ring?.CloseReason ?? _nextFailure));
            return;
        }
        var next = Next();
        var hiddenHeader = new FrameHeader(FrameType.Hidden, session.Id, Epoch) { Step = step, FirstPosition = session.Position - positions };
        var sent = next is null ? 0 : next.SendHidden(_codec, hiddenHeader, output, _slices!.Config.Dim, session.Encoding, session.Zstd);
        if (sent == 0)
        {
            FailSession(session, NextLost(next?.CloseReason ?? _nextFailure));
            return;
        }
        if (positions == 1)
        {
            Interlocked.Increment(ref _decodeFramesSent);
            Interlocked.Add(ref _decodeBytesSent, sent);
        }
    }

    private int Sample(ChainSession session, ReadOnlySpan<float> logits)
    {
        var vocab = session.SampledVocabulary;
        if (_logits.Length < vocab)
            _logits = new float[vocab];
        // The sampler may change the logits (repetition penalty): it works on a copy.
        logits[..vocab].CopyTo(_logits);
        var token = session.Sampler!.Sample(_logits.AsSpan(0, vocab), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(session.History));
        session.History!.Add(token);
        return token;
    }

    private void OnEnd(FrameConnection connection, in FrameHeader header)
    {
        if (!_sessions.TryGetValue(header.SessionId, out var session))
        {
            // A session this node already dropped (it failed here first): the nodes after it still hold it.
            if (!IsClient(connection) && !IsLast)
                Next()?.Send(header, default);
            return;
        }
        if (!ReferenceEquals(session.Upstream, connection))
        {
            Reject(connection, header, FrameRejection.ForeignSession, $"an End for session {header.SessionId:x16} from a connection that did not open it", ChainErrorCode.ForeignSession);
            return;
        }
        if (session.Entry is { } entry)
        {
            // The client cancels. A step still on its way round the ring finishes first, so the caches stay in step.
            if (entry.AwaitingToken)
                entry.Cancelled = true;
            else
                Finish(session, Inference.Generation.StopReason.Cancelled);
            return;
        }
        Remove(session);
        if (!IsLast)
            Next()?.Send(header, default);
    }

    /// <summary>An error travelling back towards the entry: pass it on (or, at the entry, to the client) and drop the session.</summary>
    private void OnError(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        ChainErrorPayload error;
        try
        {
            error = ChainErrorPayload.Read(payload);
        }
        catch (InvalidDataException e)
        {
            error = new ChainErrorPayload(ChainErrorCode.Malformed, connection.PeerName, $"an unreadable error ({e.Message})");
        }
        if (header.SessionId == 0 || !_sessions.TryGetValue(header.SessionId, out var session))
        {
            ChainLog.Rejected(_log, NodeId, connection.PeerName, "Error", $"{connection.PeerName} reported for session {header.SessionId:x16}: {error}");
            return;
        }
        if (ReferenceEquals(session.Upstream, connection))
        {
            // The client (or the node before) gave up on the session.
            FailSession(session, error, notifyUpstream: false);
            return;
        }
        // The node that failed already told the nodes after it (an End), so only the way back remains.
        FailSession(session, error, notifyDownstream: false);
    }

    private void OnConnectionClosed(FrameConnection connection, string reason)
    {
        ChainLog.ConnectionLost(_log, NodeId, connection.PeerName, reason);
        if (ReferenceEquals(connection, _next))
        {
            _next = null;
            _nextFailure = reason;
            // Every session goes through the next hop.
            foreach (var session in _sessions.Values.ToList())
                FailSession(session, NextLost(reason), notifyDownstream: false);
            return;
        }
        foreach (var session in _sessions.Values.ToList())
        {
            if (ReferenceEquals(session.Upstream, connection) && session.Entry is { AwaitingToken: true } entry)
            {
                // The client is gone while a step is out: end when its token comes back, so the chain stays in step.
                entry.Cancelled = true;
            }
            else if (ReferenceEquals(session.Upstream, connection))
            {
                // Its client or the node before is gone: nobody waits for this session any more.
                FailSession(session, new ChainErrorPayload(ChainErrorCode.NodeLost, connection.PeerName, reason), notifyUpstream: false);
            }
            else if (IsEntry && _plan is not null && connection.PeerNodeId == _plan.Assignments[^1].NodeId)
            {
                // The ring's way back (from the last node) is broken: no token will come.
                FailSession(session, new ChainErrorPayload(ChainErrorCode.NodeLost, connection.PeerName,
                    $"node {connection.PeerName} ({connection.Remote}) is gone: {reason}"));
            }
        }
    }

    private string _nextFailure = "not connected";

    private ChainErrorPayload NextLost(string reason)
    {
        // While this node shuts down it closes its own link to the next node; the sessions it fails then are lost to
        // this node going, not to the next one.
        if (Volatile.Read(ref _disposed) != 0)
            return new ChainErrorPayload(ChainErrorCode.NodeLost, NodeId, $"node {NodeId} is shutting down");
        var endpoint = _plan is null ? "?" : _plan.Assignments[(_hop + 1) % _plan.Hops].DataEndpoint;
        return new ChainErrorPayload(ChainErrorCode.NodeLost, NextNodeId, $"node {NextNodeId} ({endpoint}) is unreachable or gone: {reason}");
    }

    /// <summary>The connection to the next node of the ring, connected on first use (the worker waits for it, bounded by the connect timeout).</summary>
    private FrameConnection? Next()
    {
        if (_next is { IsClosed: false })
            return _next;
        if (_plan is null || _plan.Hops == 1)
            return null;
        var endpoint = _plan.Assignments[(_hop + 1) % _plan.Hops].DataEndpoint;
        try
        {
            var connection = FrameConnection.ConnectAsync(endpoint, this, _stopping.Token, _options.Handshake).GetAwaiter().GetResult();
            _connections[connection] = 0;
            connection.SendHello(NodeId, Epoch);
            _next = connection;
            return connection;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or FormatException)
        {
            _nextFailure = e.Message;
            return null;
        }
    }

    /// <summary>
    /// Ends a session on this node with an error: the error goes back towards the client (upstream), an End goes on
    /// towards the last node (so the nodes after this one free the session too), and the session's caches are freed.
    /// </summary>
    private void FailSession(ChainSession session, ChainErrorPayload error, bool notifyUpstream = true, bool notifyDownstream = true)
    {
        ChainLog.SessionFailed(_log, NodeId, session.Id, error.ToString());
        if (notifyUpstream)
            session.Upstream.SendError(session.Id, session.Entry is null ? Epoch : 0, error);
        if (notifyDownstream && !IsLast && _next is { IsClosed: false } next)
            next.Send(new FrameHeader(FrameType.End, session.Id, Epoch), default, TimeSpan.FromSeconds(1));
        Remove(session);
    }

    private void Add(ChainSession session)
    {
        _sessions.Add(session.Id, session);
        Volatile.Write(ref _activeSessions, _sessions.Count);
    }

    private void Remove(ChainSession session)
    {
        if (_sessions.Remove(session.Id))
            session.Dispose();
        Volatile.Write(ref _activeSessions, _sessions.Count);
    }

    private void CheckDeadlines()
    {
        if (!IsEntry || _sessions.Count == 0)
            return;
        var now = Environment.TickCount64;
        var limit = (long)_options.StepDeadline.TotalMilliseconds;
        List<ChainSession>? late = null;
        foreach (var session in _sessions.Values)
        {
            if (session.Entry is { AwaitingToken: true } entry && now - entry.StepStartedTicks > limit)
                (late ??= []).Add(session);
        }
        if (late is null)
            return;
        var chain = string.Join(" -> ", _plan!.Assignments.Select(a => a.NodeId));
        foreach (var session in late)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.StepDeadline, NodeId,
                $"no token came back within the step deadline of {_options.StepDeadline.TotalSeconds:0} s (chain {chain}); a node is stuck"));
        }
    }

    /// <summary>
    /// Decodes <paramref name="positions"/> positions of hidden states into the worker's reused buffer (grown, never
    /// per step); a payload that cannot be read fails the session and returns false.
    /// </summary>
    private bool TryReadHidden(ChainSession session, in FrameHeader header, ReadOnlySpan<byte> encoded, int positions)
    {
        var dim = _slices!.Config.Dim;
        var values = positions * dim;
        if (_hidden.Length < values)
            _hidden = new float[Math.Max(values, 2 * _hidden.Length)];
        try
        {
            _codec.ReadPayload(header, encoded, dim, _hidden.AsSpan(0, values));
            return true;
        }
        catch (InvalidDataException e)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, NodeId, $"node {NodeId} cannot read the hidden states: {e.Message}"));
            return false;
        }
    }

    private static int ReadToken(ReadOnlySpan<byte> payload) =>
        payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload) : throw new InvalidDataException($"a Token payload needs 4 bytes, got {payload.Length}");
}
