namespace EdgeNode.Verifier;

/// <summary>The verifier's limits. Every default is `edgenode serve`'s.</summary>
public sealed record VerifierOptions
{
    /// <summary>
    /// Longest draft one verify request may carry (the "draft limit"): 32 is past where the adaptive length ever goes
    /// (at α 0.9 the 33rd draft adds 3% of a token) and bounds one pass's work and the logits it returns.
    /// </summary>
    public const int DefaultMaxDraftTokens = 32;

    /// <summary>The session idle timeout: a session with no request for this long is closed and its KV cache freed.</summary>
    public static readonly TimeSpan DefaultSessionIdleTimeout = TimeSpan.FromSeconds(120);

    public const int DefaultMaxSessions = 256;

    /// <summary>1 GiB of KV cache for every session of a model together; idle sessions past it are evicted and replayed on their next round.</summary>
    public const long DefaultKvBudgetBytes = 1L << 30;

    public int MaxDraftTokens { get; init; } = DefaultMaxDraftTokens;

    public TimeSpan SessionIdleTimeout { get; init; } = DefaultSessionIdleTimeout;

    /// <summary>Open sessions at once over every model; one more is answered 429.</summary>
    public int MaxSessions { get; init; } = DefaultMaxSessions;

    public long KvBudgetBytes { get; init; } = DefaultKvBudgetBytes;

    public void Validate()
    {
        if (MaxDraftTokens is < 1 or > 1024)
            throw new ArgumentException($"the verifier's draft limit {MaxDraftTokens} must be 1..1024");
        if (SessionIdleTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"the verifier's session idle timeout {SessionIdleTimeout.TotalSeconds} s must be positive");
        if (MaxSessions < 1)
            throw new ArgumentException($"the verifier's session limit {MaxSessions} must be at least 1");
        if (KvBudgetBytes < 1024 * 1024)
            throw new ArgumentException($"the verifier's KV budget {KvBudgetBytes} bytes is below 1 MiB");
    }
}
