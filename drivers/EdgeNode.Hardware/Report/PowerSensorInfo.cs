namespace EdgeNode.Hardware.Report;

/// <summary>A rail with current or power readings, as read during the probe.</summary>
public sealed record PowerSensorInfo(string Name, string Device, string Label, double? Volts, double? Amps, double? Watts);
