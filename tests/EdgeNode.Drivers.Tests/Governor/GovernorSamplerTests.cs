using EdgeNode.Drivers.Tests.Boards;
using EdgeNode.Drivers.Tests.Simulated;
using EdgeNode.Governor;
using EdgeNode.TestSupport;

namespace EdgeNode.Drivers.Tests.Governor;

public sealed class GovernorSamplerTests : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("sampler");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void OnAPhoneTree_ADischargingBatteryBelowTheLevelDrainsTheNode()
    {
        var tree = BoardTrees.SnapdragonPhone(_root.Path, "Discharging", 35);
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(new GovernorPolicy { MaxThreads = 5, MinimumBatteryPercent = 30, ResumeBatteryPercent = 40 }, time);
        var sampler = GovernorSampler.ForMachine(governor, _root.Path, time);

        Assert.Empty(sampler.SampleOnce());
        Assert.Equal(41.2, sampler.LastReadings.TemperatureCelsius);
        Assert.Equal(35, sampler.LastReadings.Battery!.CapacityPercent);

        tree.Value("/sys/class/power_supply/battery/capacity", 28);
        var decision = Assert.Single(sampler.SampleOnce());
        Assert.Equal((GovernorDecisionKind.Drain, DrainReasons.Battery), (decision.Kind, decision.Reasons));

        tree.Value("/sys/class/power_supply/battery/status", "Charging").Value("/sys/class/power_supply/usb/online", 1);
        Assert.Equal(GovernorDecisionKind.Resume, Assert.Single(sampler.SampleOnce()).Kind);
    }

    [Fact]
    public void OnARaspberryPiTree_TheFanFollowsTheTemperatureAndHeatThrottles()
    {
        var tree = BoardTrees.RaspberryPi5(_root.Path);
        var time = new ManualTimeProvider();
        var governor = new DeviceGovernor(GovernorPolicy.ForThrottlePoint(80, 4), time);
        var sampler = GovernorSampler.ForMachine(governor, _root.Path, time);

        sampler.SampleOnce();
        Assert.Equal("1", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon2/pwm1_enable")));
        Assert.Equal("90", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon2/pwm1"))); // 52.65 °C → 35.3 % duty

        tree.Value("/sys/class/thermal/thermal_zone0/temp", 76000);
        var decision = Assert.Single(sampler.SampleOnce());
        Assert.Equal(GovernorDecisionKind.Drain, decision.Kind);
        Assert.Equal("255", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon2/pwm1")));
    }

    [Fact]
    public void AFailingSensor_IsSkippedForThatRead()
    {
        var governor = new DeviceGovernor(new GovernorPolicy { MaxThreads = 2 }, new ManualTimeProvider());
        var sampler = new GovernorSampler(governor, new BrokenThermometer(), null, null);
        Assert.Empty(sampler.SampleOnce());
        Assert.Null(sampler.LastReadings.TemperatureCelsius);
    }

    private sealed class BrokenThermometer : EdgeNode.Drivers.Thermal.ITemperatureSensor
    {
        public string Name => "broken";

        public double? ReadCelsius() => throw new IOException("EIO");
    }
}
