namespace EdgeNode.Hardware.Report;

/// <summary>A fan the drivers can drive (hwmon pwm) with its speed now.</summary>
public sealed record FanInfo(string Name, int? Rpm, double? Duty);
