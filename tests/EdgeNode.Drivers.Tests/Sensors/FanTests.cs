using EdgeNode.Drivers.Fan;
using EdgeNode.Drivers.Tests.Boards;
using EdgeNode.TestSupport;

namespace EdgeNode.Drivers.Tests.Sensors;

public sealed class FanTests : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("fan");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Curve_InterpolatesBetweenPointsAndClampsOutside()
    {
        var curve = FanCurve.Default;
        Assert.Equal(0, curve.DutyAt(30));
        Assert.Equal(0.3, curve.DutyAt(50), 9);
        Assert.Equal(0.4, curve.DutyAt(55), 9);
        Assert.Equal(1, curve.DutyAt(90));
        Assert.Throws<ArgumentException>(() => new FanCurve((40, 1.5)));
    }

    [Fact]
    public void HwmonFan_TakesManualControlAndWritesPwm()
    {
        var tree = BoardTrees.RaspberryPi5(_root.Path);
        var fan = Assert.IsType<HwmonPwmFan>(HwmonPwmFan.Find(_root.Path));
        fan.SetDuty(0.5);
        Assert.Equal("1", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon2/pwm1_enable")));
        Assert.Equal("128", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon2/pwm1")));
        Assert.Equal(2948, fan.ReadRpm());
    }

    [Fact]
    public void Controller_RisesAtOnceAndFallsOnlyPastTheHysteresis()
    {
        var fan = new RecordingFan();
        var controller = new FanController(fan, FanCurve.Default, hysteresisCelsius: 3);
        Assert.Equal(0.5, controller.Update(60), 9);
        Assert.Equal(0.8, controller.Update(70), 9);
        Assert.Equal(0.8, controller.Update(68), 9);   // 2 °C down: hold
        Assert.Equal(0.8, controller.Update(69.5), 9);
        Assert.Equal(0.68, controller.Update(66), 9);  // 4 °C down: follow the curve
        Assert.Equal([0.5, 0.8, 0.68], fan.History.Select(d => Math.Round(d, 2)));
    }

    [Fact]
    public void SysfsPwm_ExportsSetsPeriodEnableAndDuty()
    {
        var tree = new FakeTree(_root.Path)
            .Value("/sys/class/pwm/pwmchip1/npwm", 1)
            .Value("/sys/class/pwm/pwmchip1/export", "")
            .Folder("/sys/class/pwm/pwmchip1/pwm0");
        var fan = new SysfsPwmFan(tree.PathOf("/sys/class/pwm/pwmchip1"), 0, 25_000);
        fan.SetDuty(0.25);
        Assert.Equal("40000", File.ReadAllText(tree.PathOf("/sys/class/pwm/pwmchip1/pwm0/period")));
        Assert.Equal("1", File.ReadAllText(tree.PathOf("/sys/class/pwm/pwmchip1/pwm0/enable")));
        Assert.Equal("10000", File.ReadAllText(tree.PathOf("/sys/class/pwm/pwmchip1/pwm0/duty_cycle")));
    }

    private sealed class RecordingFan : IFanOutput
    {
        public List<double> History { get; } = [];

        public string Name => "recording";

        public double Duty { get; private set; }

        public void SetDuty(double fraction)
        {
            Duty = fraction;
            History.Add(fraction);
        }
    }
}
