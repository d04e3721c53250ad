using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// The entry node's part: it coordinates each session for its client. It tokenizes the prompt, keeps the session's
/// token history (so the chain can later be rebuilt by replaying it), runs the embedding and its layers, decides when
/// to stop (end-of-text tokens, stop texts, max tokens, a full context) and streams text as it is released.
/// </summary>
public sealed partial class ChainNode
{
    private void OnClientOpen(FrameConnection client, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var id = header.SessionId;
        if (!IsEntry || _slices?.Tokenizer is null)
        {
            Refuse(client, id, ChainErrorCode.NoPlan, $"node {NodeId} is not the entry of the chain (hop {_hop + 1}); open sessions on the node that holds the embedding");
            return;
        }
        if (id == 0 || _sessions.ContainsKey(id))
        {
            Refuse(client, id, ChainErrorCode.BadRequest, $"session id {id:x16} is 0 or already in use; open the session with another random id");
            return;
        }
        if (_sessions.Count >= _options.MaxSessions)
        {
            Refuse(client, id, ChainErrorCode.Busy, $"node {NodeId} holds its limit of {_options.MaxSessions} sessions; retry when one ends");
            return;
        }
        SessionOpenRequest request;
        HiddenEncoding encoding;
        bool zstd;
        SamplingOptions sampling;
        try
        {
            request = JsonSerializer.Deserialize(payload, DataPlaneJsonContext.Default.SessionOpenRequest)
                ?? throw new ArgumentException("the Open payload is empty");
            (encoding, zstd) = HiddenEncodingNames.Parse(request.Encoding);
            sampling = new SamplingOptions
            {
                Temperature = request.Temperature,
                TopK = request.TopK,
                TopP = request.TopP,
                RepetitionPenalty = request.RepetitionPenalty,
                RepetitionWindow = request.RepetitionWindow,
                Seed = request.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)),
            };
            sampling.Validate();
            if (request.MaxTokens < 0)
                throw new ArgumentException($"--max-tokens {request.MaxTokens} must be >= 0");
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            Refuse(client, id, ChainErrorCode.BadRequest, $"the session request is not valid: {e.Message}");
            return;
        }
        var config = _slices.Config;
        if (request.ContextLength > config.MaxSeqLen || request.ContextLength < 0)
        {
            Refuse(client, id, ChainErrorCode.BadRequest, $"a context of {request.ContextLength} positions is outside this model's 1..{config.MaxSeqLen}; use --context {config.MaxSeqLen} or less");
            return;
        }
        var capacity = request.ContextLength > 0 ? request.ContextLength : config.MaxSeqLen;
        var tokenizer = _slices.Tokenizer;
        var prompt = request.PromptTokens ?? tokenizer.Encode(request.Prompt);
        // Ids past the tokenizer's (padding rows of the embedding) name no text: a prompt may not use them, sampling skips them.
        var vocabulary = Math.Min(config.VocabSize, tokenizer.VocabSize);
        if (Array.FindIndex(prompt, t => (uint)t >= (uint)vocabulary) is var bad and >= 0)
        {
            Refuse(client, id, ChainErrorCode.BadRequest, $"prompt token {bad} is id {prompt[bad]}, outside the vocabulary of {vocabulary}");
            return;
        }
        if (prompt.Length == 0 || prompt.Length > capacity)
        {
            Refuse(client, id, ChainErrorCode.BadRequest, prompt.Length == 0
                ? "the prompt has no tokens"
                : $"the prompt is {prompt.Length} tokens, longer than the context of {capacity}");
            return;
        }
        var entry = new EntryState
        {
            PromptTokens = prompt,
            Generated = new List<int>(Math.Min(request.MaxTokens, 4096)),
            Decoder = tokenizer.CreateDecoder(prompt[^1]),
            StopTexts = new StopTextFilter(request.StopTexts),
            StopTokens = request.StopTokens is { Length: > 0 } extra ? new HashSet<int>(tokenizer.StopTokens.Concat(extra)) : tokenizer.StopTokens,
            MaxTokens = request.MaxTokens,
            Seed = sampling.Seed!.Value,
            EncodingName = HiddenEncodingNames.ToName(encoding, zstd),
            OpenedTimestamp = Stopwatch.GetTimestamp(),
        };
        var session = new ChainSession(id, client, _slices.CreateCaches(capacity), encoding, zstd, capacity)
        {
            Entry = entry,
            Sampler = IsLast ? new TokenSampler(sampling) : null,
            History = IsLast ? new List<int>(prompt) : null,
            SampledVocabulary = vocabulary,
        };
        Add(session);
        if (request.MaxTokens == 0)
        {
            Finish(session, StopReason.MaxTokens);
            return;
        }
        if (!IsLast)
        {
            var open = new ChainOpenRequest
            {
                Encoding = encoding, Zstd = zstd, Capacity = capacity,
                Temperature = sampling.Temperature, TopK = sampling.TopK, TopP = sampling.TopP,
                RepetitionPenalty = sampling.RepetitionPenalty, RepetitionWindow = sampling.RepetitionWindow, Seed = entry.Seed,
                PromptTokens = prompt, SampledVocabulary = vocabulary,
            };
            var next = Next();
            var bytes = JsonSerializer.SerializeToUtf8Bytes(open, DataPlaneJsonContext.Default.ChainOpenRequest);
            if (next is null || !next.Send(new FrameHeader(FrameType.Open, id, Epoch), bytes))
            {
                FailSession(session, NextLost(next?.CloseReason ?? _nextFailure), notifyDownstream: false);
                return;
            }
        }
        RunStep(session, prompt);
    }

    /// <summary>Runs <paramref name="tokens"/> (the prompt, or the last sampled token) through the entry's slices and sends the result on.</summary>
    private void RunStep(ChainSession session, ReadOnlySpan<int> tokens)
    {
        var entry = session.Entry!;
        ReadOnlySpan<float> output;
        try
        {
            output = _slices!.RunTokens(tokens, session.Caches);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.RunFailed, NodeId, $"node {NodeId} failed to run the embedding and layers [0,{_slices!.Assignment.EndLayer}): {e.Message}"));
            return;
        }
        session.Position += tokens.Length;
        entry.AwaitingToken = true;
        entry.StepStartedTicks = Environment.TickCount64;
        Forward(session, output, tokens.Length, entry.Generated.Count);
    }

    /// <summary>The last node's sampled token came back round the ring.</summary>
    private void OnToken(FrameConnection connection, in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (!IsEntry || !_sessions.TryGetValue(header.SessionId, out var session) || session.Entry is not { AwaitingToken: true } entry
            || IsClient(connection) || header.Step != entry.Generated.Count)
        {
            Reject(connection, header, FrameRejection.ForeignSession,
                $"a token for session {header.SessionId:x16} step {header.Step}, which node {NodeId} is not waiting for", ChainErrorCode.ForeignSession);
            return;
        }
        int token;
        try
        {
            token = ReadToken(payload);
        }
        catch (InvalidDataException e)
        {
            FailSession(session, new ChainErrorPayload(ChainErrorCode.Malformed, connection.PeerName, e.Message));
            return;
        }
        session.Step = header.Step + 1;
        OnSampled(session, token);
    }

    /// <summary>A token was sampled for the session: stop, or stream it and run the next step.</summary>
    private void OnSampled(ChainSession session, int token)
    {
        var entry = session.Entry!;
        entry.AwaitingToken = false;
        if (entry.FirstTokenTimestamp == 0)
            entry.FirstTokenTimestamp = Stopwatch.GetTimestamp();
        if (entry.Cancelled)
        {
            Finish(session, StopReason.Cancelled);
            return;
        }
        if (entry.StopTokens.Contains(token) || (uint)token >= (uint)session.SampledVocabulary)
        {
            Finish(session, StopReason.EndOfText);
            return;
        }
        entry.Generated.Add(token);
        var shown = entry.StopTexts.Append(entry.Decoder.Append(token));
        var header = new FrameHeader(FrameType.Token, session.Id, Epoch) { Step = entry.Generated.Count - 1, FirstPosition = session.Position, PositionCount = 1 };
        if (!session.Upstream.SendToken(header, token, shown))
        {
            // The client is gone: nobody reads the rest.
            FailSession(session, new ChainErrorPayload(ChainErrorCode.NodeLost, "", "the client closed its connection"), notifyUpstream: false);
            return;
        }
        if (entry.StopTexts.Stopped)
            Finish(session, StopReason.StopText);
        else if (entry.Generated.Count >= entry.MaxTokens)
            Finish(session, StopReason.MaxTokens);
        else if (session.Position + 1 > session.Capacity)
            Finish(session, StopReason.ContextFull);
        else
        {
            _oneToken[0] = token;
            RunStep(session, _oneToken);
        }
    }

    /// <summary>Ends a session normally: the rest of the text and the summary to the client, an End down the chain.</summary>
    private void Finish(ChainSession session, StopReason reason)
    {
        var entry = session.Entry!;
        var tail = "";
        if (reason != StopReason.StopText)
        {
            tail = entry.StopTexts.Finish(entry.Decoder.Flush());
            if (entry.StopTexts.Stopped)
                reason = StopReason.StopText;
        }
        var now = Stopwatch.GetTimestamp();
        var first = entry.FirstTokenTimestamp == 0 ? now : entry.FirstTokenTimestamp;
        var summary = new SessionSummary
        {
            StopReason = reason.ToString(),
            PromptTokens = entry.PromptTokens,
            Tokens = [.. entry.Generated],
            TrailingText = tail,
            PrefillMs = Stopwatch.GetElapsedTime(entry.OpenedTimestamp, first).TotalMilliseconds,
            DecodeMs = Stopwatch.GetElapsedTime(first, now).TotalMilliseconds,
            Seed = entry.Seed,
            Model = _plan!.Model,
            Epoch = _plan.Epoch,
            Encoding = entry.EncodingName,
            Hops = [.. _plan.Assignments.Select(a => new ChainHop
            {
                NodeId = a.NodeId, Endpoint = a.DataEndpoint, FirstLayer = a.FirstLayer, EndLayer = a.EndLayer, Embed = a.Embed, Head = a.Head,
            })],
        };
        session.Upstream.Send(new FrameHeader(FrameType.End, session.Id, Epoch), JsonSerializer.SerializeToUtf8Bytes(summary, DataPlaneJsonContext.Default.SessionSummary));
        if (!IsLast && _next is { IsClosed: false } next)
            next.Send(new FrameHeader(FrameType.End, session.Id, Epoch), default);
        ChainLog.SessionEnded(_log, NodeId, session.Id, reason.ToString(), entry.Generated.Count);
        Remove(session);
    }

    private void Refuse(FrameConnection client, ulong id, ChainErrorCode code, string message)
    {
        ChainLog.SessionFailed(_log, NodeId, id, message);
        client.SendError(id, Epoch, new ChainErrorPayload(code, NodeId, message));
    }
}
