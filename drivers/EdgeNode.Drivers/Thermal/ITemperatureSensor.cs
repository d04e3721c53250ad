namespace EdgeNode.Drivers.Thermal;

/// <summary>The temperature the governor protects: the hottest point of the SoC.</summary>
public interface ITemperatureSensor
{
    string Name { get; }

    /// <summary>Degrees Celsius, or null when no source could be read this time.</summary>
    double? ReadCelsius();
}
