using System.Text.Json.Serialization;

namespace EdgeNode.Pool.Membership;

/// <summary>
/// What one node tells its pool about itself: the retained payload of `edgenode/v1/&lt;pool&gt;/node/&lt;id&gt;/state`,
/// republished every heartbeat. Everything the planner decides with is in here, so any node (and `pool status`)
/// reaches the same plan from the same states.
/// </summary>
public sealed record NodeState
{
    /// <summary>The payload's protocol version; a receiver ignores a version it does not speak.</summary>
    [JsonPropertyName("v")]
    public int ProtocolVersion { get; init; } = PoolProtocol.Version;

    public string NodeId { get; init; } = "";

    /// <summary>The agent's release version, for operators comparing nodes.</summary>
    public string AgentVersion { get; init; } = "";

    /// <summary>"host:port" where this node's data plane listens for the hidden states of the previous stage.</summary>
    public string DataEndpoint { get; init; } = "";

    [JsonConverter(typeof(JsonStringEnumConverter<NodeStatus>))]
    public NodeStatus Status { get; init; } = NodeStatus.Joining;

    /// <summary>Bytes of model weights this node agrees to hold for the pool (--max-memory); the planner sizes by it.</summary>
    public long WeightsMaxBytes { get; init; }

    /// <summary>Of those, the bytes not holding a slice right now (informational: a new plan releases the old slices).</summary>
    public long WeightsFreeBytes { get; init; }

    /// <summary>Bytes for KV caches (--kv-memory); sessions, not the planner, spend these.</summary>
    public long KvBudgetBytes { get; init; }

    /// <summary>
    /// The intra-op threads the node's sessions run with now (0: ONNX Runtime's default, one per physical core). The
    /// device governor lowers it on a hot or power-capped board and raises it again; the node re-opens its slices each
    /// time and republishes.
    /// </summary>
    public int Threads { get; init; }

    /// <summary>
    /// The most the governor lets the node run with (<see cref="Threads"/> is below it while the board is throttled);
    /// null from a node without a governor (no sensor) or one that predates the field.
    /// </summary>
    public int? MaxThreads { get; init; }

    public IReadOnlyList<ServableModel> Models { get; init; } = [];

    /// <summary>Board sensors where they exist; null fields where they do not.</summary>
    public NodeSensors? Sensors { get; init; }

    /// <summary>The sender's clock at publication; `pool status` shows its age. Expiry uses the receiver's clock.</summary>
    public DateTimeOffset HeartbeatAt { get; init; }

    /// <summary>How often this node republishes its state; observers expire it after <see cref="HeartbeatMissLimit"/> misses.</summary>
    public int HeartbeatIntervalMs { get; init; } = (int)PoolProtocol.DefaultHeartbeatInterval.TotalMilliseconds;

    public int HeartbeatMissLimit { get; init; } = PoolProtocol.DefaultHeartbeatMissLimit;

    /// <summary>Assignments this node could not take, with why; the leader plans those models without it.</summary>
    public IReadOnlyList<SliceRefusal> Refusals { get; init; } = [];

    /// <summary>How long silence may last before observers treat this node as gone.</summary>
    [JsonIgnore]
    public TimeSpan ExpiresAfter => TimeSpan.FromMilliseconds((long)Math.Max(HeartbeatIntervalMs, 1) * Math.Max(HeartbeatMissLimit, 1));

    public ServableModel? Model(string name)
    {
        foreach (var m in Models)
            if (m.Name == name) return m;
        return null;
    }

    public bool Refuses(string model)
    {
        foreach (var r in Refusals)
            if (r.Model == model) return true;
        return false;
    }
}

/// <summary>
/// A model a node can serve a slice of. Sizes are at the node's precision; <see cref="Sha256"/> (of the manifest or
/// checkpoint) is how nodes agree they mean the same weights: the planner only chains nodes whose hashes match.
/// </summary>
public sealed record ServableModel
{
    public string Name { get; init; } = "";
    public int Layers { get; init; }
    public int Dim { get; init; }
    public long BytesPerLayer { get; init; }
    /// <summary>Token embedding bytes: held by the first node of a chain.</summary>
    public long EmbedBytes { get; init; }
    /// <summary>Final norm + classifier bytes: held by the last node (a tied classifier counts the embedding again).</summary>
    public long HeadBytes { get; init; }
    /// <summary>Tokenizer bytes: held by the first node, which encodes prompts and decodes tokens.</summary>
    public long TokenizerBytes { get; init; }
    public string Sha256 { get; init; } = "";
    /// <summary>True when this node holds the whole checkpoint and can build any slice without fetching.</summary>
    public bool Local { get; init; }
    /// <summary>Measured milliseconds per layer per decoded token on this node; null until measured.</summary>
    public double? MsPerLayer { get; init; }
    /// <summary>
    /// Weight precision of the slices (fp32, int8, int4): what the sizes are at, and what a node without the
    /// checkpoint fetches. Null from nodes that predate the field.
    /// </summary>
    public string? Precision { get; init; }
}

public sealed record NodeSensors
{
    public double? TemperatureC { get; init; }
    public double? PowerW { get; init; }
    public double? JoulesPerToken { get; init; }
}

/// <summary>A node saying it cannot take what plan <see cref="Epoch"/> gave it for <see cref="Model"/>, and why.</summary>
public sealed record SliceRefusal
{
    public string Model { get; init; } = "";
    public long Epoch { get; init; }
    public string Reason { get; init; } = "";
}
