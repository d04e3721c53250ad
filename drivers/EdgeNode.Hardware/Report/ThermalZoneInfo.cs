namespace EdgeNode.Hardware.Report;

/// <summary>A temperature source: a thermal zone ("thermal_zone0") or, without zones, a hwmon channel ("hwmon1/temp1").</summary>
public sealed record ThermalZoneInfo(string Source, string Type, double? Celsius, double? ThrottleCelsius, bool IsSoc);
