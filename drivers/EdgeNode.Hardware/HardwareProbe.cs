using EdgeNode.Drivers.Sysfs;
using EdgeNode.Drivers.Thermal;
using EdgeNode.Hardware.Probing;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware;

/// <summary>
/// Finds out what this machine is from procfs, sysfs and /dev. The root is "/" on a real system;
/// tests point it at a folder shaped like a board's. The probe never throws for a missing or
/// unreadable file: boards differ, phones hide things, and a partial report beats none.
/// </summary>
public static class HardwareProbe
{
    public static HardwareReport Probe(string root = "/")
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var problems = new List<string>();
        var cpuInfo = ProcCpuInfo.Parse(SysfsText.TryRead(SysfsText.Under(root, "/proc/cpuinfo")));
        if (cpuInfo.Processors.Count == 0)
            problems.Add("/proc/cpuinfo is missing or empty");

        var board = Guard(problems, "board", () => BoardProbe.Probe(root, cpuInfo),
            new BoardInfo("unknown", BoardPlatform.Unknown, "none", null, [], "unknown", null));
        var cpu = Guard(problems, "cpu", () => CpuProbe.Probe(root, cpuInfo), new CpuTopology(0, null, [], [], []));
        var memory = Guard(problems, "memory", () => MemoryProbe.Probe(root), new MemoryInfo(0, 0, 0));
        if (memory.TotalBytes == 0)
            problems.Add("/proc/meminfo gave no MemTotal");

        return new HardwareReport
        {
            Board = board,
            Cpu = cpu,
            Memory = memory,
            Storage = Guard(problems, "storage", () => StorageProbe.Probe(root), new StorageInfo([], null, null)),
            DeviceNodes = Guard(problems, "device nodes", () => DeviceNodeProbe.Probe(root), []),
            ThermalZones = Guard(problems, "thermal", () => SensorProbe.ThermalZones(root), []),
            ThrottleCelsius = Guard(problems, "throttle point", () => ThrottlePoint(root, board.Platform), null),
            PowerSensors = Guard(problems, "power sensors", () => SensorProbe.PowerSensors(root), []),
            Battery = Guard(problems, "battery", () => SensorProbe.Battery(root), null),
            Fans = Guard(problems, "fans", () => SensorProbe.Fans(root), []),
            Problems = problems,
        };
    }

    /// <summary>
    /// Where the SoC starts to slow down. Raspberry Pi firmware throttles the ARM cores from 80 °C
    /// on its own, whatever the kernel's trip points say (the device tree only lists the fan's
    /// active trips and a 110 °C critical one), so the firmware's number wins there.
    /// </summary>
    private static double? ThrottlePoint(string root, BoardPlatform platform)
    {
        const double RaspberryPiFirmwareThrottle = 80;
        var fromTrips = SocTemperatureSensor.FindThrottleCelsius(root);
        return platform == BoardPlatform.RaspberryPi ? Math.Min(fromTrips ?? RaspberryPiFirmwareThrottle, RaspberryPiFirmwareThrottle) : fromTrips;
    }

    // Each part is probed on its own so that one odd file (a sysfs attribute that errors on read,
    // a permission the sandbox denies) costs that part only.
    private static T Guard<T>(List<string> problems, string part, Func<T> probe, T fallback)
    {
        try
        {
            return probe();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or OverflowException or InvalidOperationException or ArgumentException)
        {
            problems.Add($"{part}: {error.Message}");
            return fallback;
        }
    }
}
