using System.Text.Json;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Gateway.Modes;

namespace EdgeNode.Gateway;

/// <summary>What the host hands the gateway beyond settings: serving modes it runs (pool, speculative) and the job gate its governor drives.</summary>
public sealed record GatewayPlugIns
{
    public IReadOnlyList<IServingMode> Modes { get; init; } = [];

    /// <summary>Closed by the device governor while the node drains; jobs start only while it is open.</summary>
    public JobAdmission JobAdmission { get; init; } = new();

    /// <summary>The device governor's intra-op thread count, which the local models follow between requests; null: they keep --threads.</summary>
    public SessionThreads? Threads { get; init; }

    /// <summary>
    /// The pool as this node sees it, for the dashboard (`edgenode pool status --json`'s shape: nodes, their slices and
    /// speed, each model's plan); null from the delegate until the pool is reached. Null when the node is in no pool.
    /// </summary>
    public Func<JsonElement?>? PoolStatus { get; init; }
}
