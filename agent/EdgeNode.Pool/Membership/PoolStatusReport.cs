using System.Text.Json;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Membership;

/// <summary>
/// `edgenode pool status --json`: the pool as one observer sees it — every node with its health and its slices,
/// every model's plan. Field names are the protocol's (snake_case), so the report reads like the payloads.
/// </summary>
public sealed record PoolStatusReport
{
    public required string Pool { get; init; }
    public required string Broker { get; init; }
    public string? Leader { get; init; }
    /// <summary>The highest epoch among the plans in force.</summary>
    public long Epoch { get; init; }
    public DateTimeOffset TakenAt { get; init; }
    public required IReadOnlyList<NodeStatusEntry> Nodes { get; init; }
    public required IReadOnlyList<PlanMessage> Plans { get; init; }

    public static PoolStatusReport From(PoolView view, BrokerAddress broker)
    {
        var nodes = view.Nodes.Select(n => new NodeStatusEntry
        {
            NodeId = n.State.NodeId,
            Status = n.State.Status.ToString().ToLowerInvariant(),
            Alive = n.Alive,
            HeartbeatAgeMs = (long)Math.Max(0, n.HeartbeatAge(view.TakenAt).TotalMilliseconds),
            Slices = [.. view.Plans.Values.OrderBy(p => p.Plan.Model, StringComparer.Ordinal)
                .Select(p => (p.Plan, Slice: p.Plan.For(n.State.NodeId)))
                .Where(x => x.Slice is not null)
                .Select(x => new NodeSlice(x.Plan.Model, x.Plan.Epoch, x.Slice!.FirstLayer, x.Slice.EndLayer, x.Slice.Embed, x.Slice.Head,
                    n.State.Model(x.Plan.Model)?.MsPerLayer))],
            State = n.State,
        }).ToArray();
        return new PoolStatusReport
        {
            Pool = view.Pool,
            Broker = broker.ToString(),
            Leader = view.Leader,
            Epoch = view.HighestEpoch,
            TakenAt = view.TakenAt,
            Nodes = nodes,
            Plans = [.. view.Plans.Values.OrderBy(p => p.Plan.Model, StringComparer.Ordinal)],
        };
    }

    public string ToJson() => JsonSerializer.Serialize(this, PoolJsonContext.Default.PoolStatusReport);
}

public sealed record NodeStatusEntry
{
    public required string NodeId { get; init; }
    public required string Status { get; init; }
    /// <summary>Heard from within its heartbeat limit (and not offline or leaving).</summary>
    public bool Alive { get; init; }
    /// <summary>Now minus the heartbeat time the node stamped (the node's clock: a large value on a live node means a skewed clock).</summary>
    public long HeartbeatAgeMs { get; init; }
    public required IReadOnlyList<NodeSlice> Slices { get; init; }
    public required NodeState State { get; init; }
}

/// <summary>One slice a node holds under a plan, with the node's measured speed for that model.</summary>
public sealed record NodeSlice(string Model, long Epoch, int FirstLayer, int EndLayer, bool Embed, bool Head, double? MsPerLayer);
