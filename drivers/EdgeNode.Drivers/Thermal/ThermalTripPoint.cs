namespace EdgeNode.Drivers.Thermal;

/// <summary>A zone's trip_point_N: the temperature at which the kernel acts (active = fan, passive = throttle).</summary>
public sealed record ThermalTripPoint(int Index, string Type, double Celsius);
