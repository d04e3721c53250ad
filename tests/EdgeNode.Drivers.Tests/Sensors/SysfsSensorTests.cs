using EdgeNode.Drivers.Battery;
using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Tests.Boards;
using EdgeNode.Drivers.Thermal;
using EdgeNode.TestSupport;

namespace EdgeNode.Drivers.Tests.Sensors;

public sealed class SysfsSensorTests : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("sensors");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void JetsonBoardInput_IsTheVddInRailAndFollowsTheFiles()
    {
        var tree = BoardTrees.JetsonOrinNano(_root.Path);
        var input = Assert.IsType<HwmonPowerSensor>(HwmonPowerSensor.FindBoardInput(_root.Path));
        Assert.Equal("ina3221/VDD_IN", input.Name);
        Assert.Equal(5.080 * 1.488, input.Read().Watts, 6);

        tree.Value("/sys/class/hwmon/hwmon1/curr1_input", 2500);
        Assert.Equal(5.080 * 2.5, input.Read().Watts, 6);
    }

    [Fact]
    public void Ina2xxHwmon_UsesPowerInputInMicrowattsAndSkipsTheShuntChannel()
    {
        new FakeTree(_root.Path)
            .Value("/sys/class/hwmon/hwmon3/name", "ina219")
            .Value("/sys/class/hwmon/hwmon3/in0_input", 12)
            .Value("/sys/class/hwmon/hwmon3/in1_input", 5104)
            .Value("/sys/class/hwmon/hwmon3/curr1_input", 1210)
            .Value("/sys/class/hwmon/hwmon3/power1_input", 6180000);
        var sensor = Assert.Single(HwmonPowerSensor.FindAll(_root.Path));
        var reading = sensor.Read();
        Assert.Equal((5.104, 1.21, 6.18), (reading.Volts, reading.Amps, reading.Watts));
    }

    [Fact]
    public void PhoneBattery_ReadsStatusCapacityAndCharger()
    {
        BoardTrees.SnapdragonPhone(_root.Path, "Charging", 54, usbOnline: 1);
        var battery = Assert.IsType<PowerSupplyBattery>(PowerSupplyBattery.Find(_root.Path));
        var reading = battery.Read();
        Assert.Equal((BatteryStatus.Charging, 54, true, true), (reading.Status, reading.CapacityPercent!.Value, reading.ExternalPowerOnline, reading.OnExternalPower));
        Assert.Equal(1.25, reading.Amps!.Value, 6);
    }

    [Fact]
    public void PeripheralBatteries_AreNotTheNodes()
    {
        new FakeTree(_root.Path)
            .Value("/sys/class/power_supply/hid-mouse-battery/type", "Battery")
            .Value("/sys/class/power_supply/hid-mouse-battery/scope", "Device")
            .Value("/sys/class/power_supply/hid-mouse-battery/capacity", 5);
        Assert.Null(PowerSupplyBattery.Find(_root.Path));
    }

    [Fact]
    public void SocTemperature_IsTheHottestSocZoneAndIgnoresBatteryAndSkin()
    {
        var tree = BoardTrees.SnapdragonPhone(_root.Path);
        tree.Value("/sys/class/thermal/thermal_zone5/temp", 60000); // battery: hot, but not the SoC
        var sensor = Assert.IsType<SocTemperatureSensor>(SocTemperatureSensor.Find(_root.Path));
        Assert.Equal(41.2, sensor.ReadCelsius());
        Assert.Equal(95, SocTemperatureSensor.FindThrottleCelsius(_root.Path));
    }

    [Fact]
    public void SocTemperature_FallsBackToCoretempWithoutThermalZones()
    {
        new FakeTree(_root.Path)
            .Value("/sys/class/hwmon/hwmon0/name", "coretemp")
            .Value("/sys/class/hwmon/hwmon0/temp1_input", 61000)
            .Value("/sys/class/hwmon/hwmon0/temp2_input", 58000);
        var sensor = Assert.IsType<SocTemperatureSensor>(SocTemperatureSensor.Find(_root.Path));
        Assert.Equal(61.0, sensor.ReadCelsius());
    }

    [Fact]
    public void NoSensors_MeansNullNotAnError()
    {
        Assert.Null(SocTemperatureSensor.Find(_root.Path));
        Assert.Null(PowerSupplyBattery.Find(_root.Path));
        Assert.Null(HwmonPowerSensor.FindBoardInput(_root.Path));
        Assert.Empty(ThermalZone.Enumerate(_root.Path));
    }
}
