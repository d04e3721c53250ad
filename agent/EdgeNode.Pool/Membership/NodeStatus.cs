namespace EdgeNode.Pool.Membership;

/// <summary>Where a node stands in its pool's life cycle, as it publishes it (or as its last will says).</summary>
public enum NodeStatus
{
    /// <summary>Connected, not yet ready to take a slice (loading, measuring its speed).</summary>
    Joining,
    /// <summary>Ready: the planner may give it layers.</summary>
    Serving,
    /// <summary>Finishing what it holds and taking nothing new (the device governor drains it, or an operator).</summary>
    Draining,
    /// <summary>Leaving on purpose; its retained state is cleared right after.</summary>
    Leaving,
    /// <summary>Gone: the last will the broker publishes when a node's connection dies without a goodbye.</summary>
    Offline,
}
