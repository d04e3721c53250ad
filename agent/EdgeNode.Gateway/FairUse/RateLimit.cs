namespace EdgeNode.Gateway.FairUse;

/// <summary>A sustained rate (requests a minute) and the burst a client may send at once; PerMinute 0 means no limit.</summary>
public readonly record struct RateLimit(int PerMinute, int Burst)
{
    public bool Enabled => PerMinute > 0;

    public double PerSecond => PerMinute / 60.0;

    /// <summary>Ticks (Stopwatch) an empty bucket takes to fill: after that long idle it is the same as a new one.</summary>
    public long TicksToFill => (long)(Burst / PerSecond * System.Diagnostics.Stopwatch.Frequency);

    public void Validate(string what)
    {
        if (PerMinute < 0)
            throw new ArgumentException($"the {what} rate limit {PerMinute} requests a minute must be >= 0 (0 turns it off)");
        if (Enabled && Burst < 1)
            throw new ArgumentException($"the {what} burst {Burst} must be >= 1 while its rate limit is on");
    }
}
