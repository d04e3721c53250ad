using EdgeNode.Drivers.Battery;

namespace EdgeNode.Governor;

/// <summary>What the sensors said at one moment; null where a sensor is absent or failed this time.</summary>
public sealed record GovernorReadings(double? TemperatureCelsius = null, BatteryReading? Battery = null, double? PowerWatts = null);
