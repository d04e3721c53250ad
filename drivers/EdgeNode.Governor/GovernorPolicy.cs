namespace EdgeNode.Governor;

/// <summary>
/// The limits the governor keeps. Thermal limits sit below the SoC's own throttle point so the
/// node sheds load itself instead of letting the kernel halve its clocks mid-request; every limit
/// that stops work has a lower limit that restarts it, so a reading that hovers cannot flap.
/// </summary>
public sealed record GovernorPolicy
{
    public int MaxThreads { get; init; } = Math.Max(1, Environment.ProcessorCount);

    public int MinThreads { get; init; } = 1;

    /// <summary>Above this, threads are shed in proportion to how close the drain limit is.</summary>
    public double ReduceThreadsCelsius { get; init; } = 70;

    /// <summary>At or above this, the node drains.</summary>
    public double DrainCelsius { get; init; } = 78;

    /// <summary>A drained node resumes only below this...</summary>
    public double ResumeCelsius { get; init; } = 65;

    /// <summary>...held for this long, so a fan burst that dips the reading for a second is not enough.</summary>
    public TimeSpan CoolDownHold { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A shed thread comes back only when the temperature is this much lower than where it was shed.</summary>
    public double ThreadHysteresisCelsius { get; init; } = 3;

    /// <summary>Threads are added back one at a time, at most once per this interval.</summary>
    public TimeSpan ThreadStepHold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>On battery, the node contributes only above this charge...</summary>
    public int MinimumBatteryPercent { get; init; } = 30;

    /// <summary>...and after draining for low battery, resumes on battery only from this charge (or when a charger is attached).</summary>
    public int ResumeBatteryPercent { get; init; } = 40;

    /// <summary>The average power the node may draw; null for no budget.</summary>
    public double? PowerBudgetWatts { get; init; }

    /// <summary>Power is averaged over this window before it is compared with the budget.</summary>
    public TimeSpan PowerWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Limits placed under a SoC's throttle trip point (from the probe): drain 5 °C below it, start
    /// shedding threads 13 °C below, resume 20 °C below.
    /// </summary>
    public static GovernorPolicy ForThrottlePoint(double throttleCelsius, int maxThreads) => new()
    {
        MaxThreads = Math.Max(1, maxThreads),
        DrainCelsius = throttleCelsius - 5,
        ReduceThreadsCelsius = throttleCelsius - 13,
        ResumeCelsius = throttleCelsius - 20,
    };

    /// <summary>Throws with a sentence naming the first contradiction in the limits.</summary>
    public void Validate()
    {
        if (MinThreads < 1 || MaxThreads < MinThreads)
            throw new ArgumentException($"threads: need 1 <= MinThreads ({MinThreads}) <= MaxThreads ({MaxThreads})");
        if (!(ResumeCelsius < DrainCelsius))
            throw new ArgumentException($"ResumeCelsius ({ResumeCelsius}) must be below DrainCelsius ({DrainCelsius}), or the node would flap");
        if (!(ReduceThreadsCelsius < DrainCelsius))
            throw new ArgumentException($"ReduceThreadsCelsius ({ReduceThreadsCelsius}) must be below DrainCelsius ({DrainCelsius})");
        if (MinimumBatteryPercent is < 0 or > 100 || ResumeBatteryPercent < MinimumBatteryPercent || ResumeBatteryPercent > 100)
            throw new ArgumentException($"battery: need 0 <= MinimumBatteryPercent ({MinimumBatteryPercent}) <= ResumeBatteryPercent ({ResumeBatteryPercent}) <= 100");
        if (PowerBudgetWatts is <= 0)
            throw new ArgumentException($"PowerBudgetWatts must be positive, not {PowerBudgetWatts}");
        if (CoolDownHold < TimeSpan.Zero || ThreadStepHold < TimeSpan.Zero || PowerWindow <= TimeSpan.Zero)
            throw new ArgumentException("hold times must be non-negative and the power window positive");
    }
}
