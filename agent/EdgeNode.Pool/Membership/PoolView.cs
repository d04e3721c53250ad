namespace EdgeNode.Pool.Membership;

/// <summary>
/// One consistent snapshot of a pool as this node sees it: every node's last state and every model's current plan.
/// Immutable, so a handler can keep it while the membership moves on.
/// </summary>
public sealed record PoolView(string Pool, IReadOnlyList<NodeView> Nodes, IReadOnlyDictionary<string, PlanMessage> Plans, DateTimeOffset TakenAt)
{
    public NodeView? Node(string nodeId)
    {
        foreach (var n in Nodes)
            if (n.State.NodeId == nodeId) return n;
        return null;
    }

    /// <summary>Nodes the planner may use: serving, heard from within their heartbeat limit.</summary>
    public IEnumerable<NodeView> Live => Nodes.Where(n => n.Alive && n.State.Status == NodeStatus.Serving);

    /// <summary>
    /// The pool's leader: the lowest node id (ordinal) among live serving nodes. Every node computes it from the
    /// same retained states, so they agree without an election; epoch fencing covers the moment they do not.
    /// </summary>
    public string? Leader => Live.Select(n => n.State.NodeId).Order(StringComparer.Ordinal).FirstOrDefault();

    public long HighestEpoch => Plans.Count == 0 ? 0 : Plans.Values.Max(p => p.Plan.Epoch);
}

/// <summary>A node's last state and when this observer last heard it (its own clock: node clocks may disagree).</summary>
public sealed record NodeView(NodeState State, DateTimeOffset LastHeard, bool Alive)
{
    public TimeSpan HeartbeatAge(DateTimeOffset now) => now - State.HeartbeatAt;
}
