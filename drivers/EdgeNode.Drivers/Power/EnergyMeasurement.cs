namespace EdgeNode.Drivers.Power;

/// <summary>The energy a run drew and what each generated token cost.</summary>
public sealed record EnergyMeasurement(double Joules, TimeSpan Duration, double AverageWatts, long Tokens, int SampleCount)
{
    public double JoulesPerToken => Tokens > 0 ? Joules / Tokens : double.NaN;

    public double TokensPerJoule => Joules > 0 ? Tokens / Joules : double.NaN;
}
