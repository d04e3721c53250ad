using EdgeNode.Drivers.Battery;
using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Sysfs;
using EdgeNode.Drivers.Thermal;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware.Probing;

/// <summary>Thermal zones, power rails, the battery and fans, each read once through the drivers.</summary>
internal static class SensorProbe
{
    public static IReadOnlyList<ThermalZoneInfo> ThermalZones(string root)
    {
        var zones = ThermalZone.Enumerate(root)
            .Select(zone => new ThermalZoneInfo($"thermal_zone{zone.Number}", zone.Type, zone.ReadCelsius(), zone.ThrottleCelsius, zone.IsSoc))
            .ToList();
        if (zones.Count > 0)
            return zones;
        // PCs often publish the CPU temperature only through hwmon (coretemp, k10temp).
        return [.. HwmonDevice.Enumerate(root).SelectMany(device => device.ChannelNumbers("temp").Select(channel =>
        {
            var millidegrees = device.ReadRaw("temp", channel);
            var critical = device.ReadRaw("temp", channel, "crit");
            var label = device.ReadLabel("temp", channel);
            var isSoc = device.Name is "coretemp" or "k10temp" or "zenpower" or "cpu_thermal" or "soc_thermal";
            return new ThermalZoneInfo($"hwmon{device.Number}/temp{channel}", label is null ? device.Name : $"{device.Name}/{label}", millidegrees / 1000.0, critical / 1000.0, isSoc);
        }))];
    }

    public static IReadOnlyList<PowerSensorInfo> PowerSensors(string root) =>
        [.. HwmonDevice.Enumerate(root).SelectMany(device => device.PowerChannelNumbers().Select(channel =>
        {
            var sensor = new HwmonPowerSensor(device, channel);
            var (volts, amps, watts) = device.ReadPowerChannel(channel);
            return new PowerSensorInfo(sensor.Name, $"hwmon{device.Number}", sensor.Label, volts, amps, watts);
        }))];

    public static BatteryInfo? Battery(string root)
    {
        var battery = PowerSupplyBattery.Find(root);
        if (battery is null)
            return null;
        var reading = battery.Read();
        var status = reading.Status switch
        {
            BatteryStatus.NotCharging => "Not charging",
            _ => reading.Status.ToString(),
        };
        return new BatteryInfo(reading.Name, status, reading.CapacityPercent, reading.Volts, reading.Watts, reading.OnExternalPower);
    }

    public static IReadOnlyList<FanInfo> Fans(string root) =>
        [.. HwmonDevice.Enumerate(root)
            .Where(device => File.Exists(device.File("pwm1")) || device.ChannelNumbers("fan").Count > 0)
            .Select(device => new FanInfo(
                device.Name,
                (int?)device.ReadRaw("fan", 1),
                SysfsText.TryReadLong(device.File("pwm1")) / 255.0))];
}
