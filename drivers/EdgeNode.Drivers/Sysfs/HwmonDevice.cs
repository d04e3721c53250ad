using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeNode.Drivers.Sysfs;

/// <summary>
/// One /sys/class/hwmon/hwmonN device. Channel files follow the hwmon sysfs ABI:
/// inN_input in millivolts, currN_input in milliamps, powerN_input in microwatts,
/// tempN_input in millidegrees Celsius, fanN_input in RPM, pwmN 0..255.
/// </summary>
public sealed partial class HwmonDevice
{
    private HwmonDevice(int number, string path, string name)
    {
        Number = number;
        Path = path;
        Name = name;
    }

    public int Number { get; }

    public string Path { get; }

    /// <summary>The driver's name file: "ina3221", "ina219", "cpu_thermal", "pwmfan", "coretemp".</summary>
    public string Name { get; }

    public static IReadOnlyList<HwmonDevice> Enumerate(string root = "/")
    {
        var devices = new List<HwmonDevice>();
        foreach (var (number, path) in SysfsText.NumberedEntries(SysfsText.Under(root, "/sys/class/hwmon"), "hwmon"))
        {
            // Old kernels kept the attributes one level down, in device/.
            var folder = System.IO.File.Exists(System.IO.Path.Combine(path, "name")) ? path : System.IO.Path.Combine(path, "device");
            var name = SysfsText.TryReadLine(System.IO.Path.Combine(folder, "name"));
            if (name is not null)
                devices.Add(new HwmonDevice(number, folder, name));
        }
        return devices;
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The channel numbers that have a file of this kind, e.g. "curr" → [1, 2, 3].</summary>
    public IReadOnlyList<int> ChannelNumbers(string kind, string suffix = "input")
    {
        var numbers = new SortedSet<int>();
        try
        {
            foreach (var file in Directory.EnumerateFiles(Path, $"{kind}*_{suffix}"))
            {
                var match = ChannelFile().Match(System.IO.Path.GetFileName(file));
                if (match.Success && match.Groups["kind"].Value == kind && match.Groups["suffix"].Value == suffix)
                    numbers.Add(int.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture));
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return [.. numbers];
    }

    public long? ReadRaw(string kind, int channel, string suffix = "input") =>
        SysfsText.TryReadLong(File($"{kind}{channel}_{suffix}"));

    public string? ReadLabel(string kind, int channel) => SysfsText.TryReadLine(File($"{kind}{channel}_label"));

    /// <summary>
    /// Channels that carry current or power. Voltage, current and power of one rail share a channel
    /// number (ina3221: in1/curr1; ina2xx: in1 bus, curr1, power1), so they are paired by number.
    /// </summary>
    public IReadOnlyList<int> PowerChannelNumbers() =>
        [.. ChannelNumbers("curr").Union(ChannelNumbers("power")).Order()];

    public (double? Volts, double? Amps, double? Watts) ReadPowerChannel(int channel)
    {
        var millivolts = ReadRaw("in", channel);
        var milliamps = ReadRaw("curr", channel);
        var microwatts = ReadRaw("power", channel);
        double? volts = millivolts / 1000.0;
        double? amps = milliamps / 1000.0;
        double? watts = microwatts is { } uw ? uw / 1e6 : volts * amps;
        return (volts, amps, watts);
    }

    [GeneratedRegex(@"^(?<kind>[a-z]+)(?<n>\d+)_(?<suffix>[a-z_]+)$")]
    private static partial Regex ChannelFile();
}
