namespace EdgeNode.Drivers.Battery;

/// <summary>A battery's state at one moment. Values the gauge does not expose are null.</summary>
public sealed record BatteryReading(
    string Name,
    BatteryStatus Status,
    int? CapacityPercent,
    double? Volts,
    double? Amps,
    double? Watts,
    bool ExternalPowerOnline)
{
    /// <summary>
    /// True when the battery is being refilled or held full by a charger. "Not charging" with a
    /// charger attached (a phone holding at 80 %) counts: the node is on mains power.
    /// </summary>
    public bool OnExternalPower => Status is BatteryStatus.Charging or BatteryStatus.Full
        || (ExternalPowerOnline && Status != BatteryStatus.Discharging);
}
