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
}
