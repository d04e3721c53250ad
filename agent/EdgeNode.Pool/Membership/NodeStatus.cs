using System.Text.Json.Serialization;

namespace EdgeNode.Pool.Membership;

/// <summary>Where a node stands in its pool's life cycle, as it publishes it (or as its last will says).</summary>
public enum NodeStatus
{
    /// <summary>Connected, not yet ready to take a slice (loading, measuring its speed).</summary>
    [JsonStringEnumMemberName("joining")]
    Joining,
    /// <summary>Ready: the planner may give it layers.</summary>
    [JsonStringEnumMemberName("serving")]
    Serving,
    /// <summary>Finishing what it holds and taking nothing new (the device governor drains it, or an operator).</summary>
    [JsonStringEnumMemberName("draining")]
    Draining,
    /// <summary>Leaving on purpose; its retained state is cleared right after.</summary>
    [JsonStringEnumMemberName("leaving")]
    Leaving,
    /// <summary>Gone: the last will the broker publishes when a node's connection dies without a goodbye.</summary>
    [JsonStringEnumMemberName("offline")]
    Offline,
}
