using EdgeNode.Agent.Serve;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Governor;

namespace EdgeNode.Agent.Tests;

/// <summary>The device governor's drain closes the job gate with its reason, and its resume opens it again.</summary>
public sealed class GovernedJobsTests
{
    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task ADrainPausesJobStartsAndAResumeLetsThemGo()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var governor = new DeviceGovernor(new GovernorPolicy { MaxThreads = 4, MinThreads = 1 }, clock);
        using var jobs = new GovernedJobs(governor, new JobAdmission());

        governor.Observe(new GovernorReadings(TemperatureCelsius: 60));
        Assert.Null(jobs.Admission.PausedBecause);
        Assert.True(jobs.Admission.WaitOpenAsync(CancellationToken.None).IsCompleted);

        governor.Observe(new GovernorReadings(TemperatureCelsius: 80));
        Assert.Contains("80.0 °C", jobs.Admission.PausedBecause, StringComparison.Ordinal);
        var open = jobs.Admission.WaitOpenAsync(CancellationToken.None);
        Assert.False(open.IsCompleted);

        // Cool, but not yet for the hold: still paused.
        governor.Observe(new GovernorReadings(TemperatureCelsius: 50));
        clock.Now += governor.Policy.CoolDownHold / 2;
        governor.Observe(new GovernorReadings(TemperatureCelsius: 50));
        Assert.NotNull(jobs.Admission.PausedBecause);

        clock.Now += governor.Policy.CoolDownHold;
        governor.Observe(new GovernorReadings(TemperatureCelsius: 50));
        Assert.Null(jobs.Admission.PausedBecause);
        await open.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
