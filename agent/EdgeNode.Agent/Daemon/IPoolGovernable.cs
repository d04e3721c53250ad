using EdgeNode.Pool.Membership;

namespace EdgeNode.Agent.Daemon;

/// <summary>What the governor may do to a pool node.</summary>
internal interface IPoolGovernable
{
    Task DrainAsync(CancellationToken cancellationToken);

    Task ResumeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs the node's slices with <paramref name="threads"/> intra-op threads (re-opened between two work items, every
    /// session's KV cache kept) and publishes the count the node then runs with.
    /// </summary>
    Task SetThreadsAsync(int threads, string why, CancellationToken cancellationToken);

    Task UpdateAsync(Func<NodeState, NodeState> change, CancellationToken cancellationToken);

    /// <summary>Frames the node's data plane has run (one per decoded token in steady decode).</summary>
    long FramesProcessed { get; }
}
