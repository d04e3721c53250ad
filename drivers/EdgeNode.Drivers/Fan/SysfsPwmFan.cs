using System.Globalization;
using EdgeNode.Drivers.Sysfs;

namespace EdgeNode.Drivers.Fan;

/// <summary>
/// A fan on a bare PWM channel (/sys/class/pwm/pwmchipN/pwmM), e.g. a 5 V fan switched by a
/// transistor on an Orange Pi header. period and duty_cycle are in nanoseconds; the channel is
/// exported on first use.
/// </summary>
public sealed class SysfsPwmFan : IFanOutput
{
    private readonly string _chip;
    private readonly int _channel;
    private readonly long _periodNs;
    private bool _configured;

    /// <param name="chipPath">/sys/class/pwm/pwmchipN</param>
    /// <param name="frequencyHz">25 kHz is the 4-pin fan standard and above hearing.</param>
    public SysfsPwmFan(string chipPath, int channel = 0, int frequencyHz = 25_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frequencyHz);
        _chip = chipPath;
        _channel = channel;
        _periodNs = 1_000_000_000L / frequencyHz;
        Name = $"{Path.GetFileName(chipPath)}/pwm{channel}";
    }

    public string Name { get; }

    public double Duty { get; private set; }

    private string ChannelPath => Path.Combine(_chip, $"pwm{_channel}");

    public void SetDuty(double fraction)
    {
        fraction = Math.Clamp(fraction, 0, 1);
        if (!_configured)
            Configure();
        var dutyNs = (long)Math.Round(_periodNs * fraction);
        Write("duty_cycle", dutyNs);
        Duty = fraction;
    }

    private void Configure()
    {
        if (!Directory.Exists(ChannelPath))
        {
            if (!SysfsText.TryWrite(Path.Combine(_chip, "export"), _channel.ToString(CultureInfo.InvariantCulture)))
                throw new IOException($"{Name}: export failed ({_chip}/export)");
            // The kernel creates the channel folder asynchronously (udev then fixes permissions).
            for (var attempt = 0; attempt < 50 && !Directory.Exists(ChannelPath); attempt++)
                Thread.Sleep(10);
            if (!Directory.Exists(ChannelPath))
                throw new IOException($"{Name}: {ChannelPath} did not appear after export");
        }
        // duty_cycle may never exceed period, so it goes to zero before the period is set.
        _ = SysfsText.TryWrite(Path.Combine(ChannelPath, "duty_cycle"), "0");
        Write("period", _periodNs);
        Write("enable", 1);
        _configured = true;
    }

    private void Write(string attribute, long value)
    {
        if (!SysfsText.TryWrite(Path.Combine(ChannelPath, attribute), value.ToString(CultureInfo.InvariantCulture)))
            throw new IOException($"{Name}: writing {attribute}={value} failed");
    }
}
