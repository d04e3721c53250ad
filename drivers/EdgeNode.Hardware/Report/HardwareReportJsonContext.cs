using System.Text.Json.Serialization;

namespace EdgeNode.Hardware.Report;

/// <summary>Source-generated JSON for the report (no reflection, so it survives NativeAOT trimming).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(HardwareReport))]
public sealed partial class HardwareReportJsonContext : JsonSerializerContext;
