using System.Globalization;
using EdgeNode.Drivers.Sysfs;

namespace EdgeNode.Drivers.Fan;

/// <summary>
/// A fan driven through hwmon (pwm-fan on the Raspberry Pi 5 cooler, most mini PCs): pwmN takes
/// 0..255, pwmN_enable=1 selects manual control so the kernel's own curve stops overriding it.
/// </summary>
public sealed class HwmonPwmFan : IFanOutput
{
    private readonly HwmonDevice _device;
    private readonly int _channel;
    private bool _manual;

    public HwmonPwmFan(HwmonDevice device, int channel = 1)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _channel = channel;
        Name = $"{device.Name}/pwm{channel}";
    }

    public string Name { get; }

    public double Duty { get; private set; }

    /// <summary>The first hwmon device with a writable pwm channel, or null.</summary>
    public static HwmonPwmFan? Find(string root = "/")
    {
        foreach (var device in HwmonDevice.Enumerate(root))
        {
            if (File.Exists(device.File("pwm1")))
                return new HwmonPwmFan(device, 1);
        }
        return null;
    }

    public int? ReadRpm() => (int?)_device.ReadRaw("fan", _channel);

    public void SetDuty(double fraction)
    {
        fraction = Math.Clamp(fraction, 0, 1);
        if (!_manual && File.Exists(_device.File($"pwm{_channel}_enable")))
        {
            if (!SysfsText.TryWrite(_device.File($"pwm{_channel}_enable"), "1"))
                throw new IOException($"{Name}: cannot take manual control (pwm{_channel}_enable); is the agent allowed to write hwmon?");
        }
        _manual = true;
        var level = (int)Math.Round(fraction * 255);
        if (!SysfsText.TryWrite(_device.File($"pwm{_channel}"), level.ToString(CultureInfo.InvariantCulture)))
            throw new IOException($"{Name}: writing pwm{_channel} failed");
        Duty = fraction;
    }
}
