using System.Globalization;

namespace EdgeNode.TestSupport;

/// <summary>
/// A sysfs tree with one CPU thermal zone, for a real serve process's device governor to read (EDGENODE_SYSFS_ROOT =
/// <see cref="Root"/>): the test sets the temperature the governor samples next.
/// </summary>
public sealed class SimulatedThermalZone : IDisposable
{
    private readonly TempDirectory _root;
    private readonly string _temp;

    public SimulatedThermalZone(double celsius)
    {
        _root = TestPaths.NewTempDirectory("sysfs");
        var zone = Path.Combine(_root.Path, "sys", "class", "thermal", "thermal_zone0");
        Directory.CreateDirectory(zone);
        File.WriteAllText(Path.Combine(zone, "type"), "cpu-thermal\n");
        _temp = Path.Combine(zone, "temp");
        Set(celsius);
    }

    /// <summary>What EDGENODE_SYSFS_ROOT points at.</summary>
    public string Root => _root.Path;

    /// <summary>The zone's reading from now on (sysfs gives millidegrees).</summary>
    public void Set(double celsius) =>
        File.WriteAllText(_temp, ((long)Math.Round(celsius * 1000)).ToString(CultureInfo.InvariantCulture) + "\n");

    public void Dispose() => _root.Dispose();
}
