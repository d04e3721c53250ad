using EdgeNode.Drivers.Sysfs;

namespace EdgeNode.Drivers.Power;

/// <summary>
/// A rail measured by a kernel hwmon driver, e.g. the Jetson's INA3221 (VDD_IN, VDD_CPU_GPU_CV,
/// VDD_SOC) or an INA219 bound to the ina2xx driver. The kernel owns the chip; this only reads files.
/// </summary>
public sealed class HwmonPowerSensor : IPowerSensor
{
    private readonly HwmonDevice _device;

    public HwmonPowerSensor(HwmonDevice device, int channel)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        Channel = channel;
        Label = device.ReadLabel("in", channel) ?? device.ReadLabel("curr", channel) ?? device.ReadLabel("power", channel) ?? $"channel{channel}";
        Name = $"{device.Name}/{Label}";
    }

    public string Name { get; }

    public string Label { get; }

    public int Channel { get; }

    public string DevicePath => _device.Path;

    /// <summary>Every hwmon channel that reports current or power.</summary>
    public static IReadOnlyList<HwmonPowerSensor> FindAll(string root = "/") =>
        [.. HwmonDevice.Enumerate(root).SelectMany(device => device.PowerChannelNumbers().Select(channel => new HwmonPowerSensor(device, channel)))];

    /// <summary>
    /// The rail that carries the whole board's input when one is labelled so (VDD_IN on Jetson
    /// modules, VIN/VSYS elsewhere); otherwise the first power channel; null without any.
    /// </summary>
    public static HwmonPowerSensor? FindBoardInput(string root = "/")
    {
        var all = FindAll(root);
        string[] inputLabels = ["VDD_IN", "VIN", "VSYS", "SYS", "POM_5V_IN", "VDD_IN_5V"];
        return all.FirstOrDefault(sensor => inputLabels.Contains(sensor.Label, StringComparer.OrdinalIgnoreCase)) ?? all.FirstOrDefault();
    }

    public PowerReading Read()
    {
        var (volts, amps, watts) = _device.ReadPowerChannel(Channel);
        if (watts is null)
            throw new IOException($"{Name}: no readable power, or voltage and current, in {_device.Path}");
        return new PowerReading(volts ?? 0, amps ?? 0, watts.Value);
    }
}
