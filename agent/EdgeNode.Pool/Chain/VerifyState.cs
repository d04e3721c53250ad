using EdgeNode.Inference.Speculative;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// What a node keeps of a verifier session (speculative decoding through the chain): how far a later pass may roll
/// its cache back, and, on the last node, the acceptance rule with the session's accepted history.
/// </summary>
internal sealed class VerifyState(int maxDraft)
{
    public int MaxDraft { get; } = maxDraft;

    /// <summary>
    /// The lowest position the next pass may start at: the last pass's history positions are kept whatever the verdict
    /// (only its drafts may be dropped), so a frame asking to roll back further is refused.
    /// </summary>
    public int MinNextPosition { get; set; }

    /// <summary>Rounds verified so far (the Step of the next round's frames).</summary>
    public int Rounds { get; set; }

    // The last node's part.
    public DraftVerifier? Verifier { get; init; }
    public DraftBuffer? Draft { get; init; }

    // The entry's part: when the round in flight arrived from the client (Stopwatch ticks).
    public long RoundStartedTimestamp { get; set; }
}
