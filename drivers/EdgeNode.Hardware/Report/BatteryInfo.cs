namespace EdgeNode.Hardware.Report;

/// <summary>The node's battery. Status is the power_supply word: Charging, Discharging, Not charging, Full, Unknown.</summary>
public sealed record BatteryInfo(string Name, string Status, int? CapacityPercent, double? Volts, double? Watts, bool OnExternalPower);
