namespace EdgeNode.Drivers.Battery;

/// <summary>The power_supply "status" attribute.</summary>
public enum BatteryStatus
{
    Unknown,
    Charging,
    Discharging,
    NotCharging,
    Full,
}
