namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// The data plane's thresholds in one place: backpressure, liveness and the sizes a frame may take. Each is what the
/// protocol document names.
/// </summary>
public static class DataPlaneLimits
{
    /// <summary>
    /// A connection's receive pipe stops taking bytes from the socket when this much is unparsed (the kernel's window
    /// then closes and the sender slows): the receive side of backpressure.
    /// </summary>
    public const long ReceivePauseBytes = 4L << 20;

    /// <summary>The receive pipe takes bytes again once it has drained below this.</summary>
    public const long ReceiveResumeBytes = 2L << 20;

    /// <summary>
    /// A writer blocks (its flush waits) while this much is queued for the socket and not yet sent: the send side of
    /// backpressure. A node's worker waiting here stops taking frames off its queue.
    /// </summary>
    public const long SendPauseBytes = 4L << 20;

    /// <summary>Writers go on once the send pipe has drained below this.</summary>
    public const long SendResumeBytes = 2L << 20;

    /// <summary>Frames waiting for a node's worker; when the queue is full the connections' readers wait (and so do their senders).</summary>
    public const int WorkQueueFrames = 1024;

    /// <summary>
    /// The largest payload a frame may declare: a prefill of 8192 positions of a 4096-wide model in fp32 is 128 MiB;
    /// anything larger is taken as a broken stream.
    /// </summary>
    public const int MaxPayloadBytes = 128 << 20;

    /// <summary>
    /// The most draft tokens one <see cref="FrameType.Verify"/> round may carry: a pass runs k + 1 positions on every
    /// node, and beyond this the acceptance of any drafter has long run out (the adaptive length stays far below).
    /// </summary>
    public const int MaxDraftTokens = 32;

    /// <summary>A connection that has sent nothing for this long sends a <see cref="FrameType.Ping"/>.</summary>
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A connection on which nothing (not even a ping) has arrived for this long is declared dead and closed: a peer
    /// that lost power sends no reset, and this is how it is noticed.
    /// </summary>
    public static readonly TimeSpan PeerSilenceLimit = TimeSpan.FromSeconds(3);

    /// <summary>How long a connect to a neighbour may take before the neighbour counts as unreachable.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
}
