using EdgeNode.Gateway.Jobs;
using EdgeNode.Gateway.Modes;

namespace EdgeNode.Gateway;

/// <summary>What the host hands the gateway beyond settings: serving modes it runs (pool, speculative) and the job gate its governor drives.</summary>
public sealed record GatewayPlugIns
{
    public IReadOnlyList<IServingMode> Modes { get; init; } = [];

    /// <summary>Closed by the device governor while the node drains; jobs start only while it is open.</summary>
    public JobAdmission JobAdmission { get; init; } = new();
}
