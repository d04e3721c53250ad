using EdgeNode.Pool.Membership;

namespace EdgeNode.Agent.Daemon;

/// <summary>What the governor may do to a pool node.</summary>
internal interface IPoolGovernable
{
    Task DrainAsync(CancellationToken cancellationToken);

    Task ResumeAsync(CancellationToken cancellationToken);

    Task UpdateAsync(Func<NodeState, NodeState> change, CancellationToken cancellationToken);

    /// <summary>Frames the node's data plane has run (one per decoded token in steady decode).</summary>
    long FramesProcessed { get; }
}
