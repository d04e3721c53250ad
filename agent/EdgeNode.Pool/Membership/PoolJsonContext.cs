using System.Text.Json.Serialization;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Membership;

/// <summary>The control plane's payloads, serialized by source generation (NativeAOT: no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NodeState))]
[JsonSerializable(typeof(PlanMessage))]
[JsonSerializable(typeof(PoolPlan))]
[JsonSerializable(typeof(PoolStatusReport))]
internal sealed partial class PoolJsonContext : JsonSerializerContext;
