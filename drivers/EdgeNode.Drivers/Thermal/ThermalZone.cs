using EdgeNode.Drivers.Sysfs;

namespace EdgeNode.Drivers.Thermal;

/// <summary>One /sys/class/thermal/thermal_zoneN: type, temp in millidegrees, trip points.</summary>
public sealed class ThermalZone
{
    private static readonly string[] s_socWords = ["cpu", "soc", "tj", "core", "pkg", "center", "cluster", "gpu", "npu", "acpitz"];
    private static readonly string[] s_notSocWords = ["battery", "skin", "charger", "usb", "pa-", "modem", "quiet", "xo-", "sdm-therm", "camera", "wifi", "pmic"];

    private ThermalZone(int number, string path, string type, IReadOnlyList<ThermalTripPoint> tripPoints)
    {
        Number = number;
        Path = path;
        Type = type;
        TripPoints = tripPoints;
    }

    public int Number { get; }

    public string Path { get; }

    /// <summary>"cpu-thermal" (Raspberry Pi), "tj-thermal" (Jetson), "bigcore0-thermal" (RK3588), "x86_pkg_temp".</summary>
    public string Type { get; }

    public IReadOnlyList<ThermalTripPoint> TripPoints { get; }

    /// <summary>Whether the zone sits on the SoC's die rather than on a battery, skin or charger.</summary>
    public bool IsSoc
    {
        get
        {
            var type = Type.ToLowerInvariant();
            return !s_notSocWords.Any(type.Contains) && s_socWords.Any(type.Contains);
        }
    }

    /// <summary>The first temperature at which the kernel starts throttling (lowest passive trip), if known.</summary>
    public double? ThrottleCelsius =>
        TripPoints.Where(trip => trip.Type == "passive").Select(trip => (double?)trip.Celsius).Min()
        ?? TripPoints.Where(trip => trip.Type is "hot" or "critical").Select(trip => (double?)trip.Celsius).Min();

    public static IReadOnlyList<ThermalZone> Enumerate(string root = "/")
    {
        var zones = new List<ThermalZone>();
        foreach (var (number, path) in SysfsText.NumberedEntries(SysfsText.Under(root, "/sys/class/thermal"), "thermal_zone"))
        {
            var type = SysfsText.TryReadLine(System.IO.Path.Combine(path, "type")) ?? $"zone{number}";
            zones.Add(new ThermalZone(number, path, type, ReadTripPoints(path)));
        }
        return zones;
    }

    /// <summary>Degrees Celsius now; null when the zone cannot be read (some phones refuse, disabled zones fail).</summary>
    public double? ReadCelsius() => SysfsText.TryReadLong(System.IO.Path.Combine(Path, "temp")) / 1000.0;

    private static List<ThermalTripPoint> ReadTripPoints(string path)
    {
        var trips = new List<ThermalTripPoint>();
        for (var index = 0; ; index++)
        {
            var temp = SysfsText.TryReadLong(System.IO.Path.Combine(path, $"trip_point_{index}_temp"));
            if (temp is null)
                break;
            var type = SysfsText.TryReadLine(System.IO.Path.Combine(path, $"trip_point_{index}_type")) ?? "unknown";
            trips.Add(new ThermalTripPoint(index, type, temp.Value / 1000.0));
        }
        return trips;
    }
}
