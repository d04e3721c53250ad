namespace EdgeNode.Drivers.Battery;

/// <summary>Where the governor learns whether the node may keep running on its battery.</summary>
public interface IBatteryMonitor
{
    BatteryReading Read();
}
