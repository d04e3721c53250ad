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

    [Fact]
    public void ThreadStepsReachTheLocalModelsAndTheMaximumGivesBackTheConfiguredCount()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
        var governor = new DeviceGovernor(new GovernorPolicy { MaxThreads = 4, MinThreads = 1 }, clock);
        // --threads unset (0: ONNX Runtime's default): the governor sheds from the machine's 4 and gives 0 back.
        using var jobs = new GovernedJobs(governor, new JobAdmission(), configuredThreads: 0);
        var seen = new List<(int Threads, string Why)>();
        jobs.Threads.Changed += (threads, why) => seen.Add((threads, why));

        governor.Observe(new GovernorReadings(TemperatureCelsius: 60));
        Assert.Null(jobs.Threads.Threads);

        // 76 °C between the limits (70, 78): ceil(4 - 3 × 6/8) = 2 threads, and jobs still run.
        governor.Observe(new GovernorReadings(TemperatureCelsius: 76));
        Assert.Equal(2, jobs.Threads.Threads);
        Assert.Null(jobs.Admission.PausedBecause);
        Assert.Contains("SoC 76.0", seen[^1].Why, StringComparison.Ordinal);

        // Cool: one thread back per hold; at the maximum the configured count (0) comes back.
        clock.Now += governor.Policy.ThreadStepHold;
        governor.Observe(new GovernorReadings(TemperatureCelsius: 50));
        Assert.Equal(3, jobs.Threads.Threads);
        clock.Now += governor.Policy.ThreadStepHold;
        governor.Observe(new GovernorReadings(TemperatureCelsius: 50));
        Assert.Equal(0, jobs.Threads.Threads);
        Assert.Equal([2, 3, 0], seen.Select(s => s.Threads));
    }
}
