using System.Text.Json;

namespace EdgeNode.Hardware.Report;

/// <summary>
/// Everything the probe found. Immutable: the agent adds what only it can know with
/// <c>report with { RuntimeVersion = ..., ExecutionProviders = ... }</c>.
/// </summary>
public sealed record HardwareReport
{
    public required BoardInfo Board { get; init; }

    public required CpuTopology Cpu { get; init; }

    public required MemoryInfo Memory { get; init; }

    public required StorageInfo Storage { get; init; }

    public IReadOnlyList<DeviceNode> DeviceNodes { get; init; } = [];

    public IReadOnlyList<ThermalZoneInfo> ThermalZones { get; init; } = [];

    /// <summary>The lowest temperature at which the kernel throttles the SoC, from the trip points.</summary>
    public double? ThrottleCelsius { get; init; }

    public IReadOnlyList<PowerSensorInfo> PowerSensors { get; init; } = [];

    public BatteryInfo? Battery { get; init; }

    public IReadOnlyList<FanInfo> Fans { get; init; } = [];

    /// <summary>ONNX Runtime's version, filled by the agent.</summary>
    public string? RuntimeVersion { get; init; }

    /// <summary>Execution providers that were listed and smoke-tested, filled by the agent.</summary>
    public IReadOnlyList<ExecutionProviderStatus> ExecutionProviders { get; init; } = [];

    /// <summary>Parts of the probe that failed; the rest of the report is still valid.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    public string ToJson() => JsonSerializer.Serialize(this, HardwareReportJsonContext.Default.HardwareReport);

    public static HardwareReport FromJson(string json) =>
        JsonSerializer.Deserialize(json, HardwareReportJsonContext.Default.HardwareReport)
        ?? throw new JsonException("the hardware report JSON is null");

    public string ToText() => HardwareReportText.Render(this);
}
