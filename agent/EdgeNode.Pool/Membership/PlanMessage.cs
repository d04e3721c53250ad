using System.Text.Json.Serialization;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Membership;

/// <summary>
/// The retained payload of `edgenode/v1/&lt;pool&gt;/plan/&lt;model&gt;`: one epoch's plan for one model, published by
/// the pool's leader. When the pool cannot hold the model the plan has no assignments and <see cref="Unplanned"/>
/// says why; its epoch still fences the plan it replaces, so nothing serves on a chain that lost a node.
/// </summary>
public sealed record PlanMessage
{
    [JsonPropertyName("v")]
    public int ProtocolVersion { get; init; } = PoolProtocol.Version;

    /// <summary>The node that computed and published this plan.</summary>
    public string Leader { get; init; } = "";

    public DateTimeOffset IssuedAt { get; init; }

    public required PoolPlan Plan { get; init; }

    /// <summary>Why the model has no chain this epoch (the shortfall, in bytes), or null when it has one.</summary>
    public string? Unplanned { get; init; }

    /// <summary>Nodes the planner left out and why (refused, other weights, too little memory for one layer).</summary>
    public IReadOnlyList<PlanExclusion> Excluded { get; init; } = [];
}

public sealed record PlanExclusion(string NodeId, string Reason);
