using System.Text.Json.Serialization;

namespace EdgeNode.Pool.Bench;

/// <summary>The pool benches' JSON, source-generated (AOT: no reflection); snake_case as docs/benchmarks/pool-*.json hold it.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PoolBenchReport))]
[JsonSerializable(typeof(ChainBenchmarkReport))]
public sealed partial class PoolBenchJsonContext : JsonSerializerContext;
