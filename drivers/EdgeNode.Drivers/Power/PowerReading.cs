namespace EdgeNode.Drivers.Power;

/// <summary>One reading of a supply rail: bus volts, amps through the shunt, and watts.</summary>
public readonly record struct PowerReading(double Volts, double Amps, double Watts);
