using System.Net;
using EdgeNode.Inference.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeNode.Pool.Chain;

/// <summary>How a <see cref="ChainNode"/> runs: where its model is, where it listens, its limits.</summary>
public sealed record ChainNodeOptions
{
    /// <summary>The converted model folder (manifest.json) holding at least this node's slice files.</summary>
    public required string ModelFolder { get; init; }

    /// <summary>The ONNX Runtime settings every slice of the node is opened with.</summary>
    public required InferenceRuntime Runtime { get; init; }

    /// <summary>
    /// Intra-op threads the node opens its slices with; null: the runtime's. <see cref="ChainNode.ChangeThreadsAsync"/>
    /// changes it while the node runs (the device governor's steps).
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>Address the data plane listens on; default any IPv4 address.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Any;

    /// <summary>TCP port of the data plane; 0 = any free port (read <see cref="ChainNode.Port"/> after <see cref="ChainNode.Start"/>).</summary>
    public int Port { get; init; }

    /// <summary>Sessions the node holds at once (each with a KV cache for its layers); more are refused as busy.</summary>
    public int MaxSessions { get; init; } = 64;

    /// <summary>
    /// The entry's deadline per step: a session whose sampled token has not come back around the ring within this
    /// time ends with an error. A node that dies or falls silent is noticed sooner (connection reset, or
    /// <see cref="DataPlane.DataPlaneLimits.PeerSilenceLimit"/>); this catches a node that is connected but stuck.
    /// A prefill counts as one step, so it must cover the longest prompt on the slowest node.
    /// </summary>
    public TimeSpan StepDeadline { get; init; } = TimeSpan.FromSeconds(30);

    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// The pool's secret as a handshake: every data-plane connection, accepted or opened, proves it before any frame,
    /// and a peer that cannot is refused with a logged reason. Null: any peer that reaches the port is served.
    /// </summary>
    public Security.PoolHandshake? Handshake { get; init; }
}
