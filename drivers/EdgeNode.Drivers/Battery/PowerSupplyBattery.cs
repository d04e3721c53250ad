using EdgeNode.Drivers.Sysfs;

namespace EdgeNode.Drivers.Battery;

/// <summary>
/// A battery under /sys/class/power_supply: type "Battery", status, capacity (%), voltage_now (µV),
/// current_now (µA), power_now (µW). Chargers (type Mains, USB, Wireless) report "online".
/// Peripherals' batteries (a mouse, scope "Device") are not the node's and are skipped.
/// </summary>
public sealed class PowerSupplyBattery : IBatteryMonitor
{
    private readonly string _root;

    public PowerSupplyBattery(string path, string root = "/")
    {
        Path = path;
        Name = System.IO.Path.GetFileName(path);
        _root = root;
    }

    public string Path { get; }

    public string Name { get; }

    /// <summary>The node's own battery, or null when it has none (most boards).</summary>
    public static PowerSupplyBattery? Find(string root = "/")
    {
        foreach (var supply in Supplies(root))
        {
            if (SysfsText.TryReadLine(System.IO.Path.Combine(supply, "type")) == "Battery"
                && SysfsText.TryReadLine(System.IO.Path.Combine(supply, "scope")) != "Device")
                return new PowerSupplyBattery(supply, root);
        }
        return null;
    }

    /// <summary>Whether a charger reports online (Mains, USB, USB_PD, Wireless...).</summary>
    public static bool AnyChargerOnline(string root = "/") => Supplies(root).Any(supply =>
        SysfsText.TryReadLine(System.IO.Path.Combine(supply, "type")) is { } type
        && type != "Battery"
        && SysfsText.TryReadLong(System.IO.Path.Combine(supply, "online")) == 1);

    public BatteryReading Read()
    {
        var status = ParseStatus(SysfsText.TryReadLine(File("status")));
        var capacity = SysfsText.TryReadLong(File("capacity"));
        double? volts = SysfsText.TryReadLong(File("voltage_now")) / 1e6;
        // current_now's sign differs between fuel-gauge drivers; the status says which way it flows.
        double? amps = SysfsText.TryReadLong(File("current_now")) is { } microamps ? Math.Abs(microamps) / 1e6 : null;
        double? watts = SysfsText.TryReadLong(File("power_now")) is { } microwatts ? Math.Abs(microwatts) / 1e6 : volts * amps;
        return new BatteryReading(Name, status, capacity is { } c ? (int)Math.Clamp(c, 0, 100) : null, volts, amps, watts, AnyChargerOnline(_root));
    }

    public static BatteryStatus ParseStatus(string? text) => text switch
    {
        "Charging" => BatteryStatus.Charging,
        "Discharging" => BatteryStatus.Discharging,
        "Not charging" => BatteryStatus.NotCharging,
        "Full" => BatteryStatus.Full,
        _ => BatteryStatus.Unknown,
    };

    private string File(string name) => System.IO.Path.Combine(Path, name);

    private static IEnumerable<string> Supplies(string root)
    {
        var folder = SysfsText.Under(root, "/sys/class/power_supply");
        if (!Directory.Exists(folder))
            return [];
        try
        {
            return Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal).ToList();
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }
}
