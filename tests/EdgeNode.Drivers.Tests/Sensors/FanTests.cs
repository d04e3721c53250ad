using EdgeNode.Drivers.Fan;
using EdgeNode.Drivers.Tests.Boards;
using EdgeNode.Drivers.Thermal;
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
    public void Controller_OverTheHwmonDriver_WritesPwmAsTheTemperatureMoves()
    {
        // A mini PC: the CPU temperature in coretemp (two cores), the fan on a Super I/O chip whose
        // firmware curve is in charge (pwm1_enable=2) until the controller takes it over.
        var tree = new FakeTree(_root.Path)
            .Value("/sys/class/hwmon/hwmon0/name", "coretemp")
            .Value("/sys/class/hwmon/hwmon0/temp1_input", 40000)
            .Value("/sys/class/hwmon/hwmon0/temp2_input", 38000)
            .Value("/sys/class/hwmon/hwmon1/name", "nct6775")
            .Value("/sys/class/hwmon/hwmon1/pwm1", 153)
            .Value("/sys/class/hwmon/hwmon1/pwm1_enable", 2)
            .Value("/sys/class/hwmon/hwmon1/fan1_input", 1180);
        var sensor = Assert.IsType<SocTemperatureSensor>(SocTemperatureSensor.Find(_root.Path));
        var fan = Assert.IsType<HwmonPwmFan>(HwmonPwmFan.Find(_root.Path));
        var controller = new FanController(fan, FanCurve.Default, hysteresisCelsius: 3);
        string Pwm() => File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon1/pwm1"));

        // (core 1 °C, core 2 °C) → the pwm file after the update; the hotter core counts.
        (double Core1, double Core2, string Pwm)[] steps =
        [
            (40, 38, "0"),       // below the curve: off, and the firmware curve no longer overrides it
            (44, 55, "102"),     // 55 °C → 40 %
            (61, 52, "135"),     // 61 °C → 53 %
            (70, 66, "204"),     // 70 °C → 80 %
            (68, 60, "204"),     // 2 °C down: held
            (66.5, 60, "177"),   // 3.5 °C down: the curve again, 69.5 %
            (80, 79, "255"),     // past the last point: full
            (30, 30, "0"),
        ];
        foreach (var (core1, core2, pwm) in steps)
        {
            tree.Value("/sys/class/hwmon/hwmon0/temp1_input", (long)(core1 * 1000)).Value("/sys/class/hwmon/hwmon0/temp2_input", (long)(core2 * 1000));
            controller.Update(sensor.ReadCelsius()!.Value);
            Assert.Equal(pwm, Pwm());
            Assert.Equal("1", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon1/pwm1_enable")));
        }
        Assert.Equal(1180, fan.ReadRpm());
    }

    [Fact]
    public void Controller_OverTheHwmonDriver_ReportsAFanItCannotTakeOver()
    {
        // pwm1_enable is there but cannot be written: a link into a missing folder fails the write the
        // way a file the agent may not write does, even for root (who may write any plain file).
        var tree = new FakeTree(_root.Path)
            .Value("/sys/class/hwmon/hwmon0/name", "pwmfan")
            .Value("/sys/class/hwmon/hwmon0/pwm1", 0);
        File.CreateSymbolicLink(tree.PathOf("/sys/class/hwmon/hwmon0/pwm1_enable"), tree.PathOf("/missing/pwm1_enable"));
        var controller = new FanController(Assert.IsType<HwmonPwmFan>(HwmonPwmFan.Find(_root.Path)));
        var e = Assert.Throws<IOException>(() => controller.Update(70));
        Assert.Equal("pwmfan/pwm1: cannot take manual control (pwm1_enable); is the agent allowed to write hwmon?", e.Message);
        Assert.Equal(0, controller.Duty);
        Assert.Equal("0\n", File.ReadAllText(tree.PathOf("/sys/class/hwmon/hwmon0/pwm1")));   // untouched
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
