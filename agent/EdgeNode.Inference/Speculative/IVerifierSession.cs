namespace EdgeNode.Inference.Speculative;

/// <summary>The outcome of one round as the drafting side sees it.</summary>
/// <param name="Decision">How many drafts were kept and the token after them.</param>
/// <param name="VerifySeconds">The verifier's own time for the round (its pass), so the round trip can be told apart.</param>
public readonly record struct VerifyRound(VerifyDecision Decision, double VerifySeconds);

/// <summary>
/// A conversation on a target model that verifies drafts: in this process (<see cref="LocalVerifierSession"/>) or on a
/// remote verifier over HTTP. The drafting side owns the accepted history; a session that was lost (the verifier
/// restarted, or the session expired) is opened again from it, so no accepted token is lost.
/// </summary>
public interface IVerifierSession : IDisposable
{
    /// <summary>Opens (or reopens) the conversation at <paramref name="history"/>; returns the positions it may hold.</summary>
    int Open(ReadOnlySpan<int> history);

    /// <summary>Verifies the drafts (none: a plain decode step).</summary>
    /// <exception cref="VerifierSessionLostException">The session is gone: reopen it with the history and send the round again.</exception>
    VerifyRound Verify(DraftBuffer draft);
}

/// <summary>The verifier no longer holds the session (restart, expiry, eviction): reopen with the history and retry.</summary>
public sealed class VerifierSessionLostException(string message, Exception? inner = null) : Exception(message, inner);
