namespace EdgeNode.Drivers.Power;

/// <summary>Anything that measures a rail's power: an INA2xx on I2C, a hwmon channel, a battery gauge.</summary>
public interface IPowerSensor
{
    /// <summary>Which rail, e.g. "ina219@1-0x40" or "ina3221/VDD_IN".</summary>
    string Name { get; }

    PowerReading Read();
}
