using System.Text.Json.Serialization;

namespace EdgeNode.Agent.Daemon;

/// <summary>GET /v1/pool/node: a pool node's data-plane counters since it started (a moment's values).</summary>
internal sealed class PoolNodeCounters
{
    public string NodeId { get; init; } = "";

    /// <summary>The plan epoch the data plane serves (0 before the first plan).</summary>
    public long Epoch { get; init; }

    public int ActiveSessions { get; init; }

    /// <summary>Hidden frames of one position (decode steps) sent to the next node.</summary>
    public long DecodeFramesSent { get; init; }

    /// <summary>Bytes of those frames on the wire, the 48-byte header included.</summary>
    public long DecodeBytesSent { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PoolNodeCounters))]
internal sealed partial class PoolNodeJsonContext : JsonSerializerContext;
