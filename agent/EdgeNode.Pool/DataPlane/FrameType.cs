namespace EdgeNode.Pool.DataPlane;

/// <summary>What a data-plane frame carries. Values are on the wire: never renumber, only add.</summary>
public enum FrameType : byte
{
    /// <summary>Who is speaking: the sender's node id (empty from a client). The first frame each side sends.</summary>
    Hello = 1,

    /// <summary>Opens a session: from a client to the entry node (prompt, limits, sampling), and from node to node
    /// along the chain (sampling, encoding, prompt token ids for the sampler's repetition window).</summary>
    Open = 2,

    /// <summary>Hidden states of positions [FirstPosition, FirstPosition + PositionCount), encoded as the flags say.</summary>
    Hidden = 3,

    /// <summary>A sampled token: from the last node to the entry (payload: the id), and from the entry to the client
    /// (payload: the id and the text it released).</summary>
    Token = 4,

    /// <summary>A session is over: downstream it frees the session's KV caches; to the client it carries the summary.</summary>
    End = 5,

    /// <summary>A session (or, with session 0, the connection) failed: a code, the node that reports it and why.</summary>
    Error = 6,

    /// <summary>The sender is closing the connection on purpose (it leaves the pool or is disposed).</summary>
    Close = 7,

    /// <summary>Sent on a connection that has been quiet for <see cref="DataPlaneLimits.PingInterval"/>: liveness only.</summary>
    Ping = 8,

    /// <summary>
    /// Speculative verification, client to entry: the positions the chain has not yet run for the session (the accepted
    /// history from FirstPosition on: the whole history on a session's first round, its last token after that) and
    /// the k draft tokens after them, as a draft block (docs/pool-data-plane.md). PositionCount is their number.
    /// </summary>
    Verify = 9,

    /// <summary>
    /// A verification pass from node to node: the draft block as the client sent it (length-prefixed), then the
    /// hidden states of its PositionCount positions from FirstPosition. A FirstPosition below the node's own length
    /// says where the last round's accepted tokens end: the node drops its cache past it first.
    /// </summary>
    VerifyHidden = 10,

    /// <summary>
    /// The outcome of a verification pass, from the last node round the ring to the entry and on to the client:
    /// drafts accepted, the correction or bonus token, positions examined, milliseconds; FirstPosition is the number
    /// of positions every node keeps (the accepted history but its last token).
    /// </summary>
    Verdict = 11,
}
