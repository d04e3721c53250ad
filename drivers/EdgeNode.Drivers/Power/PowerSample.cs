namespace EdgeNode.Drivers.Power;

/// <summary>A power reading taken at a moment of a run, measured from the run's start.</summary>
public readonly record struct PowerSample(TimeSpan At, double Watts);
