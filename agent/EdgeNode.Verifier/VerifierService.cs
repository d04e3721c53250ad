using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using EdgeNode.Gateway;
using EdgeNode.Gateway.Api;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Verifier;

/// <summary>
/// The verifier's sessions over the gateway's served models. A round runs in the model's turn (the same queue as the
/// gateway's completions: a model runs one pass at a time), with the session's caches leased from the model's pool.
/// Sessions idle past <see cref="VerifierOptions.SessionIdleTimeout"/> are closed by a sweep; their ids are remembered
/// (a bounded number) so a late round is told "expired" (410) rather than "unknown" (404).
/// </summary>
public sealed class VerifierService : IDisposable
{
    private const int RememberedExpired = 4096;

    private readonly ModelCatalog _catalog;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, VerifierSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelCaches> _caches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _fingerprints = new(StringComparer.Ordinal);
    private readonly Queue<string> _expiredOrder = new();
    private readonly HashSet<string> _expired = new(StringComparer.Ordinal);
    private readonly Timer _sweep;
    private long _opened;
    private long _rounds;
    private long _passes;
    private long _proposed;
    private long _accepted;
    private long _emitted;
    private long _expiredCount;

    public VerifierService(VerifierOptions options, ModelCatalog catalog, ILogger log)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _catalog = catalog;
        _log = log;
        var period = TimeSpan.FromTicks(Math.Clamp(options.SessionIdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(200).Ticks, TimeSpan.FromSeconds(10).Ticks));
        _sweep = new Timer(_ => SweepIdle(), null, period, period);
    }

    public VerifierOptions Options { get; }

    public VerifierStats Stats => new()
    {
        Sessions = _sessions.Count,
        Opened = Interlocked.Read(ref _opened),
        Expired = Interlocked.Read(ref _expiredCount),
        Rounds = Interlocked.Read(ref _rounds),
        TargetPasses = Interlocked.Read(ref _passes),
        DraftsProposed = Interlocked.Read(ref _proposed),
        DraftsAccepted = Interlocked.Read(ref _accepted),
        TokensEmitted = Interlocked.Read(ref _emitted),
        Evictions = _caches.Values.Sum(c => c.Evictions),
    };

    internal async Task<OpenSessionResponse> OpenAsync(OpenSessionRequest request, CancellationToken cancellation)
    {
        var runner = _catalog.Get(request.Model);
        if (request.Tokens is not null && request.Prompt is not null)
            throw ApiError.InvalidRequest("Send either 'tokens' (the history as ids) or 'prompt' (text), not both.", "tokens", "conflicting_parameters");
        if (request.Tokens is null && request.Prompt is null)
            throw ApiError.MissingParameter("tokens");
        if (request.Tokens is { Length: 0 })
            throw ApiError.InvalidRequest("'tokens' is empty; the history holds at least BOS.", "tokens", "empty_history");
        var sampling = new SamplingOptions
        {
            Temperature = request.Temperature ?? 0.8f,
            TopK = request.TopK ?? 40,
            TopP = request.TopP ?? 0.95f,
            RepetitionPenalty = request.RepetitionPenalty ?? 1f,
            Seed = request.Seed,
        };
        try
        {
            sampling.Validate();
        }
        catch (ArgumentException e)
        {
            throw ApiError.InvalidRequest(e.Message.Replace("--", "", StringComparison.Ordinal).Replace('-', '_'), null, "invalid_sampling");
        }
        if (request.BenchmarkAcceptance is { } alpha && (alpha is < 0 or > 1 || double.IsNaN(alpha)))
            throw ApiError.InvalidRequest($"'benchmark_acceptance' is {alpha}; it is a probability in [0, 1] (and only for benchmarks).", "benchmark_acceptance", "invalid_value");
        SweepIdle();
        if (_sessions.Count >= Options.MaxSessions)
            throw VerifierErrors.TooManySessions(Options.MaxSessions);

        using var turn = await runner.WaitTurnAsync(first: false, cancellation).ConfigureAwait(false);
        var model = turn.Model;
        var fingerprint = _fingerprints.GetOrAdd(runner.Id, _ => TokenizerFingerprint.Of(model.Tokenizer));
        if (!string.Equals(request.Tokenizer, fingerprint, StringComparison.Ordinal))
            throw VerifierErrors.TokenizerMismatch(runner.Id, fingerprint, request.Tokenizer);
        var tokens = request.Tokens ?? model.Tokenizer.Encode(request.Prompt!);
        var vocab = Math.Min(model.Config.VocabSize, model.Tokenizer.VocabSize);
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocab)
                throw VerifierErrors.TokenOutOfVocabulary("tokens", i, tokens[i], vocab);
        }
        var caches = _caches.GetOrAdd(runner.Id, _ => new ModelCaches(model, Options.KvBudgetBytes));
        if (tokens.Length >= caches.Capacity)
            throw ApiError.ContextLengthExceeded("tokens", caches.Capacity, tokens.Length, null);

        var verifier = new DraftVerifier(model.Config.VocabSize, model.Tokenizer.VocabSize, sampling, Options.MaxDraftTokens, caches.Capacity, request.BenchmarkAcceptance);
        verifier.Reset(tokens);
        var id = "vs_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var session = new VerifierSession(id, runner.Id, verifier, new DraftBuffer(Options.MaxDraftTokens, model.Config.VocabSize)) { LastUse = Stopwatch.GetTimestamp() };
        var clock = Stopwatch.StartNew();
        using (var lease = Lease(caches, id))
        {
            try
            {
                verifier.Prefill(model, lease.State);
            }
            catch
            {
                lease.Discard();
                throw;
            }
        }
        if (verifier.CachedLength > 0)
            Interlocked.Increment(ref _passes);
        _sessions[id] = session;
        Interlocked.Increment(ref _opened);
        return new OpenSessionResponse
        {
            Session = id,
            Model = runner.Id,
            Tokens = tokens,
            Tokenizer = fingerprint,
            VocabSize = vocab,
            Context = caches.Capacity,
            MaxDraft = Options.MaxDraftTokens,
            IdleTimeoutSeconds = Options.SessionIdleTimeout.TotalSeconds,
            PrefillMs = Math.Round(clock.Elapsed.TotalMilliseconds, 3),
        };
    }

    internal async Task<VerifyResponse> VerifyAsync(string id, VerifyRequest request, CancellationToken cancellation)
    {
        var session = Find(id);
        if (!session.TryEnter())
            throw VerifierErrors.SessionBusy(id);
        try
        {
            session.LastUse = Stopwatch.GetTimestamp();
            var verifier = session.Verifier;
            var draft = session.Draft;
            FillDraft(request, draft, Math.Min(verifier.VocabSize, session.Draft.VocabSize), Options.MaxDraftTokens, verifier);
            var runner = _catalog.Get(session.Model);
            using var turn = await runner.WaitTurnAsync(first: false, cancellation).ConfigureAwait(false);
            var model = turn.Model;
            var caches = _caches.GetOrAdd(runner.Id, _ => new ModelCaches(model, Options.KvBudgetBytes));
            var clock = Stopwatch.StartNew();
            VerifyDecision decision;
            using (var lease = Lease(caches, id))
            {
                try
                {
                    if (lease.State.Length != verifier.CachedLength)
                    {
                        // Evicted while idle: replay the history into the fresh caches (one pass).
                        verifier.Prefill(model, lease.State);
                        Interlocked.Increment(ref _passes);
                    }
                    decision = verifier.Verify(model, lease.State, draft);
                }
                catch (ContextFullException)
                {
                    throw VerifierErrors.ContextFull(verifier.Capacity, verifier.History.Length, draft.Count);
                }
                catch (ArgumentException e)
                {
                    throw ApiError.InvalidRequest(e.Message.Replace(" (Parameter 'draft')", "", StringComparison.Ordinal), "draft", "invalid_draft");
                }
                catch
                {
                    lease.Discard();
                    throw;
                }
            }
            var elapsed = clock.Elapsed;
            Interlocked.Increment(ref _rounds);
            Interlocked.Increment(ref _passes);
            Interlocked.Add(ref _proposed, draft.Count);
            Interlocked.Add(ref _accepted, decision.Accepted);
            Interlocked.Add(ref _emitted, decision.Accepted + 1);
            session.LastUse = Stopwatch.GetTimestamp();
            return new VerifyResponse
            {
                Accepted = decision.Accepted,
                Token = decision.Token,
                Length = verifier.History.Length,
                TargetProbabilities = verifier.IsGreedy || decision.Examined == 0 ? null : verifier.TargetProbabilities.ToArray(),
                VerifyMs = Math.Round(elapsed.TotalMilliseconds, 3),
            };
        }
        finally
        {
            session.Exit();
        }
    }

    internal void Close(string id)
    {
        var session = Find(id);
        if (!session.TryEnter())
            throw VerifierErrors.SessionBusy(id);
        try
        {
            _sessions.TryRemove(id, out _);
            if (_caches.TryGetValue(session.Model, out var caches))
                caches.Remove(id);
        }
        finally
        {
            session.Exit();
        }
    }

    private VerifierSession Find(string id)
    {
        if (_sessions.TryGetValue(id, out var session))
            return session;
        lock (_expired)
        {
            if (_expired.Contains(id))
                throw VerifierErrors.ExpiredSession(id, Options.SessionIdleTimeout);
        }
        throw VerifierErrors.UnknownSession(id);
    }

    private static ModelCaches.Lease Lease(ModelCaches caches, string id)
    {
        try
        {
            return caches.Acquire(id);
        }
        catch (InsufficientMemoryException e)
        {
            throw new ApiError(503, $"The verifier's KV cache budget is full: {e.Message}", "server_error", null, "kv_budget_full") { RetryAfterSeconds = 1 };
        }
    }

    private static void FillDraft(VerifyRequest request, DraftBuffer draft, int vocab, int limit, DraftVerifier verifier)
    {
        var tokens = request.Draft ?? [];
        if (tokens.Length > limit)
            throw VerifierErrors.DraftTooLong(tokens.Length, limit);
        var distributions = request.DraftDistributions;
        if (distributions is not null && distributions.Length != tokens.Length)
            throw ApiError.InvalidRequest($"'draft_distributions' has {distributions.Length} entries for {tokens.Length} draft tokens; send one per draft token, or none.", "draft_distributions", "invalid_draft");
        draft.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)vocab)
                throw VerifierErrors.TokenOutOfVocabulary("draft", i, tokens[i], vocab);
            if (distributions is null || verifier.IsGreedy)
            {
                draft.Add(tokens[i]);
                continue;
            }
            var d = distributions[i];
            var ids = d.Ids ?? [];
            var probabilities = d.Probabilities ?? [];
            if (ids.Length != probabilities.Length || ids.Length == 0)
                throw ApiError.InvalidRequest($"'draft_distributions[{i}]' has {ids.Length} ids and {probabilities.Length} probabilities; send as many of each, at least one.", "draft_distributions", "invalid_draft");
            for (var j = 0; j < ids.Length; j++)
            {
                if ((uint)ids[j] >= (uint)vocab)
                    throw VerifierErrors.TokenOutOfVocabulary($"draft_distributions[{i}].ids", j, ids[j], vocab);
                if (!(probabilities[j] >= 0 && probabilities[j] <= 1))
                    throw ApiError.InvalidRequest($"'draft_distributions[{i}].probabilities[{j}]' is {probabilities[j]}; a probability is in [0, 1].", "draft_distributions", "invalid_draft");
            }
            draft.Add(tokens[i], ids, probabilities);
        }
    }

    /// <summary>Closes the sessions idle past the timeout (a session in a round is never idle).</summary>
    public void SweepIdle()
    {
        var limit = Stopwatch.GetTimestamp() - (long)(Options.SessionIdleTimeout.TotalSeconds * Stopwatch.Frequency);
        foreach (var (id, session) in _sessions)
        {
            if (session.LastUse > limit || !session.TryEnter())
                continue;
            try
            {
                if (session.LastUse > limit || !_sessions.TryRemove(id, out _))
                    continue;
                if (_caches.TryGetValue(session.Model, out var caches))
                    caches.Remove(id);
                Interlocked.Increment(ref _expiredCount);
                lock (_expired)
                {
                    if (_expired.Add(id))
                        _expiredOrder.Enqueue(id);
                    while (_expiredOrder.Count > RememberedExpired)
                        _expired.Remove(_expiredOrder.Dequeue());
                }
                if (_log.IsEnabled(LogLevel.Debug))
                    _log.LogDebug("verifier session {Session} on {Model} expired", id, session.Model);
            }
            catch (InvalidOperationException)
            {
                // Its caches are leased by a round that raced the sweep: it is not idle after all.
            }
            finally
            {
                session.Exit();
            }
        }
    }

    public void Dispose()
    {
        _sweep.Dispose();
        foreach (var caches in _caches.Values)
            caches.Dispose();
    }
}

/// <summary>GET /v1/verifier/stats: what the verifier has done since the node started (capacity measurements read it).</summary>
public sealed class VerifierStats
{
    public int Sessions { get; init; }
    public long Opened { get; init; }
    public long Expired { get; init; }
    public long Rounds { get; init; }
    /// <summary>Passes through the target: one per round, one per prefill or replay.</summary>
    public long TargetPasses { get; init; }
    public long DraftsProposed { get; init; }
    public long DraftsAccepted { get; init; }
    public long TokensEmitted { get; init; }
    public long Evictions { get; init; }
}
