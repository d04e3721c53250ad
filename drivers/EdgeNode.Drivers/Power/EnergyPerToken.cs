namespace EdgeNode.Drivers.Power;

/// <summary>
/// Joules per generated token from power sampled during a run. Energy is the trapezoid integral of
/// the samples; when the run's own duration is known it is used instead of the sampled span (the
/// first sample rarely lands on the run's first instant), with the samples' time-weighted mean power.
/// </summary>
public static class EnergyPerToken
{
    public static EnergyMeasurement Compute(IReadOnlyList<PowerSample> samples, long tokens, TimeSpan? runDuration = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if (samples.Count == 0)
            throw new ArgumentException("no power samples: energy per token needs at least one reading taken during the run", nameof(samples));
        if (samples.Any(sample => double.IsNaN(sample.Watts) || sample.Watts < 0))
            throw new ArgumentException("power samples must be non-negative watts", nameof(samples));

        var ordered = samples.OrderBy(sample => sample.At).ToArray();
        var joules = 0.0;
        for (var i = 1; i < ordered.Length; i++)
        {
            var seconds = (ordered[i].At - ordered[i - 1].At).TotalSeconds;
            joules += seconds * (ordered[i].Watts + ordered[i - 1].Watts) / 2;
        }
        var span = ordered[^1].At - ordered[0].At;
        var averageWatts = span > TimeSpan.Zero ? joules / span.TotalSeconds : ordered.Average(sample => sample.Watts);

        if (runDuration is { } duration)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(duration.Ticks, nameof(runDuration));
            return new EnergyMeasurement(averageWatts * duration.TotalSeconds, duration, averageWatts, tokens, ordered.Length);
        }
        if (span <= TimeSpan.Zero)
            throw new ArgumentException("the samples span no time; pass the run's duration", nameof(samples));
        return new EnergyMeasurement(joules, span, averageWatts, tokens, ordered.Length);
    }
}
