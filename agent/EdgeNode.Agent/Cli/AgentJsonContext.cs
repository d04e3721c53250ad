using System.Text.Json.Serialization;

namespace EdgeNode.Agent.Cli;

/// <summary>`edgenode generate --json`: one object, stable field names (snake_case).</summary>
public sealed class GenerateReport
{
    public required string Model { get; init; }
    public required string Precision { get; init; }
    public required int[] PromptTokens { get; init; }
    public required int[] Tokens { get; init; }
    public required string Text { get; init; }
    public required string StopReason { get; init; }
    public double PrefillTokS { get; init; }
    public double DecodeTokS { get; init; }
    public double TtftMs { get; init; }
    public required string Ep { get; init; }

    /// <summary>What ran the 4-bit products: "edgenode (avx-vnni)", "edgenode (neon-dotprod)" or "onnxruntime".</summary>
    [JsonPropertyName("matmul_kernels")]
    public required string MatMulKernels { get; init; }

    public int Threads { get; init; }
    public ulong Seed { get; init; }
    /// <summary>Positions the conversation could hold (the context chosen or requested).</summary>
    public int Context { get; init; }
    public double PeakRssMb { get; init; }
    public double RssMb { get; init; }

    /// <summary>Energy per generated token from the board's power sensor; null where there is none.</summary>
    public double? JoulesPerToken { get; init; }
    public string? PowerSensor { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(GenerateReport))]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
