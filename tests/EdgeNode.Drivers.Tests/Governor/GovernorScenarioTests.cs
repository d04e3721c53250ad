using EdgeNode.Drivers.Battery;
using EdgeNode.Drivers.Tests.Simulated;
using EdgeNode.Governor;

namespace EdgeNode.Drivers.Tests.Governor;

public sealed class GovernorScenarioTests
{
    private static readonly GovernorPolicy s_policy = new()
    {
        MaxThreads = 4,
        MinThreads = 1,
        ReduceThreadsCelsius = 70,
        DrainCelsius = 78,
        ResumeCelsius = 65,
        CoolDownHold = TimeSpan.FromSeconds(30),
        ThreadStepHold = TimeSpan.FromSeconds(10),
        MinimumBatteryPercent = 30,
        ResumeBatteryPercent = 40,
    };

    private sealed class Recorder : IObserver<GovernorDecision>
    {
        public List<GovernorDecision> Decisions { get; } = [];

        public void OnNext(GovernorDecision value) => Decisions.Add(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }

    [Fact]
    public void RisingTemperature_FewerThreads_ThenDrain_ThenResumeAfterCooling()
    {
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(s_policy, time);
        var recorder = new Recorder();
        using var subscription = governor.Subscribe(recorder);

        void Heat(double celsius, int seconds = 5)
        {
            governor.Observe(new GovernorReadings(TemperatureCelsius: celsius));
            time.Advance(TimeSpan.FromSeconds(seconds));
        }

        foreach (var t in new[] { 50.0, 60, 69, 72 })
            Heat(t);
        Assert.Equal((GovernorState.Serving, 4), (governor.State, governor.Threads));

        Heat(74);
        Assert.Equal((GovernorState.Throttled, 3), (governor.State, governor.Threads));
        Heat(76.5);
        Assert.Equal(2, governor.Threads);

        Heat(78.2);
        Assert.Equal((GovernorState.Drained, DrainReasons.Thermal), (governor.State, governor.Reasons));

        // Cooling, but not yet below the resume limit, or not for long enough: stays drained, no flapping.
        foreach (var t in new[] { 75.0, 70, 66, 64, 63, 66, 64 })
            Heat(t);
        Assert.Equal(GovernorState.Drained, governor.State);
        for (var i = 0; i < 6; i++)
            Heat(62);
        Assert.Equal(GovernorState.Serving, governor.State);
        Assert.Equal(4, governor.Threads);

        var kinds = recorder.Decisions.Select(d => (d.Kind, d.Threads)).ToList();
        Assert.Equal(
            [(GovernorDecisionKind.SetThreads, 3), (GovernorDecisionKind.SetThreads, 2), (GovernorDecisionKind.Drain, 1), (GovernorDecisionKind.Resume, 4)],
            kinds);
        Assert.Contains("78.2 °C", recorder.Decisions[2].Why, StringComparison.Ordinal);
        Assert.Contains("cooled", recorder.Decisions[3].Why, StringComparison.Ordinal);
    }

    [Fact]
    public void HoveringAtAThreadBoundary_DoesNotFlap()
    {
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(s_policy, time);
        var changes = 0;
        governor.DecisionMade += (_, _) => changes++;
        for (var i = 0; i < 40; i++)
        {
            governor.Observe(new GovernorReadings(TemperatureCelsius: i % 2 == 0 ? 73.9 : 72.1));
            time.Advance(TimeSpan.FromSeconds(15));
        }
        Assert.Equal(1, changes);
        Assert.Equal(3, governor.Threads);
    }

    [Fact]
    public void ThreadsComeBackOneAtATimeAfterTheHold()
    {
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(s_policy, time);
        governor.Observe(new GovernorReadings(77));
        Assert.Equal(2, governor.Threads);
        governor.Observe(new GovernorReadings(50));
        Assert.Equal(2, governor.Threads);
        time.Advance(TimeSpan.FromSeconds(10));
        governor.Observe(new GovernorReadings(50));
        Assert.Equal(3, governor.Threads);
        time.Advance(TimeSpan.FromSeconds(10));
        governor.Observe(new GovernorReadings(50));
        Assert.Equal(4, governor.Threads);
    }

    [Fact]
    public void DischargingBelowTheLevel_Leaves_AndChargingBringsItBack()
    {
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(s_policy, time);
        var recorder = new Recorder();
        using var subscription = governor.Subscribe(recorder);

        static BatteryReading Battery(int percent, BatteryStatus status, bool charger = false) =>
            new("battery", status, percent, 3.8, 0.5, 1.9, charger);

        foreach (var percent in new[] { 45, 38, 31 })
            governor.Observe(new GovernorReadings(40, Battery(percent, BatteryStatus.Discharging)));
        Assert.Equal(GovernorState.Serving, governor.State);

        governor.Observe(new GovernorReadings(40, Battery(29, BatteryStatus.Discharging)));
        Assert.Equal((GovernorState.Drained, DrainReasons.Battery), (governor.State, governor.Reasons));
        Assert.Equal(GovernorDecisionKind.Drain, recorder.Decisions.Single().Kind);
        Assert.Contains("battery at 29 %", recorder.Decisions.Single().Why, StringComparison.Ordinal);

        // Back above the minimum but below the resume level, still on battery: stays out.
        governor.Observe(new GovernorReadings(40, Battery(33, BatteryStatus.Discharging)));
        Assert.Equal(GovernorState.Drained, governor.State);

        governor.Observe(new GovernorReadings(40, Battery(33, BatteryStatus.Charging, charger: true)));
        Assert.Equal(GovernorState.Serving, governor.State);
        Assert.Equal(GovernorDecisionKind.Resume, recorder.Decisions[^1].Kind);
    }

    [Fact]
    public void LowBatteryOnCharger_KeepsServing()
    {
        var governor = new DeviceGovernor(s_policy, new ManualTimeProvider());
        governor.Observe(new GovernorReadings(40, new BatteryReading("battery", BatteryStatus.NotCharging, 12, null, null, null, ExternalPowerOnline: true)));
        Assert.Equal(GovernorState.Serving, governor.State);
    }

    [Fact]
    public void ThermalAndBatteryTogether_ResumeOnlyWhenBothClear()
    {
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(s_policy, time);
        var low = new BatteryReading("battery", BatteryStatus.Discharging, 20, null, null, null, false);
        var charging = low with { Status = BatteryStatus.Charging, ExternalPowerOnline = true };
        governor.Observe(new GovernorReadings(80, low));
        Assert.Equal(DrainReasons.Thermal | DrainReasons.Battery, governor.Reasons);
        governor.Observe(new GovernorReadings(80, charging));
        Assert.Equal(DrainReasons.Thermal, governor.Reasons);
        for (var i = 0; i < 4; i++)
        {
            governor.Observe(new GovernorReadings(60, charging));
            time.Advance(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(GovernorState.Serving, governor.State);
    }

    [Fact]
    public void PowerBudget_ShedsThreadsThenDrainsWhenTheMinimumStillDrawsTooMuch()
    {
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(s_policy with { PowerBudgetWatts = 6, PowerWindow = TimeSpan.FromSeconds(10) }, time);

        // Power roughly follows threads: 2 W idle + 1.5 W per thread.
        double Draw() => 2 + (1.5 * governor.Threads);
        for (var i = 0; i < 12; i++)
        {
            governor.Observe(new GovernorReadings(PowerWatts: Draw()));
            time.Advance(TimeSpan.FromSeconds(5));
        }
        Assert.Equal(GovernorState.Throttled, governor.State);
        Assert.Equal(2, governor.Threads);
        Assert.True(governor.AveragePowerWatts <= 6);

        // A heavier load: even one thread is over budget for a whole window.
        for (var i = 0; i < 12 && governor.State != GovernorState.Drained; i++)
        {
            governor.Observe(new GovernorReadings(PowerWatts: 9));
            time.Advance(TimeSpan.FromSeconds(5));
        }
        Assert.Equal((GovernorState.Drained, DrainReasons.Power), (governor.State, governor.Reasons));
    }

    [Fact]
    public void Policy_RefusesLimitsThatWouldFlap()
    {
        var error = Assert.Throws<ArgumentException>(() => new DeviceGovernor(s_policy with { ResumeCelsius = 80 }));
        Assert.Contains("ResumeCelsius", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new DeviceGovernor(s_policy with { ResumeBatteryPercent = 20 }));
        var fromTrip = GovernorPolicy.ForThrottlePoint(85, 4);
        Assert.Equal((80.0, 72.0, 65.0), (fromTrip.DrainCelsius, fromTrip.ReduceThreadsCelsius, fromTrip.ResumeCelsius));
    }
}
