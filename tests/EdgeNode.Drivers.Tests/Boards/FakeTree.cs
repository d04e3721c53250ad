using System.Text;

namespace EdgeNode.Drivers.Tests.Boards;

/// <summary>Writes system files (procfs, sysfs, /dev names, build.prop) under a temp folder that stands for "/".</summary>
public sealed class FakeTree(string root)
{
    public string Root { get; } = root;

    public string PathOf(string absolute) => Path.Combine(Root, absolute.TrimStart('/'));

    public FakeTree File(string absolute, string content)
    {
        var path = PathOf(absolute);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content, new UTF8Encoding(false));
        return this;
    }

    /// <summary>A sysfs attribute: the value and the newline the kernel prints after it.</summary>
    public FakeTree Value(string absolute, object value) => File(absolute, FormattableString.Invariant($"{value}\n"));

    /// <summary>A device node; here only its name matters.</summary>
    public FakeTree Node(string absolute) => File(absolute, "");

    public FakeTree Folder(string absolute)
    {
        Directory.CreateDirectory(PathOf(absolute));
        return this;
    }

    /// <summary>A device-tree string property: NUL-terminated, several strings back to back.</summary>
    public FakeTree DeviceTreeStrings(string absolute, params string[] values) =>
        File(absolute, string.Concat(values.Select(value => value + "\0")));

    public FakeTree ArmCpuInfo(IReadOnlyList<(string Part, string Variant)> cores, string features, string machineTail = "")
    {
        var text = new StringBuilder();
        for (var i = 0; i < cores.Count; i++)
        {
            text.Append(FormattableString.Invariant($"processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: {features}\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {cores[i].Variant}\nCPU part\t: {cores[i].Part}\nCPU revision\t: 1\n\n"));
        }
        text.Append(machineTail);
        return File("/proc/cpuinfo", text.ToString());
    }

    public FakeTree Cpu(int id, long maxKHz, string relatedCpus, int? capacity = null)
    {
        Value($"/sys/devices/system/cpu/cpu{id}/cpufreq/cpuinfo_max_freq", maxKHz);
        Value($"/sys/devices/system/cpu/cpu{id}/cpufreq/cpuinfo_min_freq", maxKHz / 4);
        Value($"/sys/devices/system/cpu/cpu{id}/cpufreq/related_cpus", relatedCpus);
        if (capacity is { } c)
            Value($"/sys/devices/system/cpu/cpu{id}/cpu_capacity", c);
        return this;
    }

    public FakeTree MemInfo(long totalKb, long freeKb, long availableKb, long swapKb = 0) => File("/proc/meminfo", FormattableString.Invariant(
        $"MemTotal:       {totalKb,9} kB\nMemFree:        {freeKb,9} kB\nMemAvailable:   {availableKb,9} kB\nBuffers:           52480 kB\nCached:          1203416 kB\nSwapCached:            0 kB\nSwapTotal:      {swapKb,9} kB\nSwapFree:       {swapKb,9} kB\n"));

    public FakeTree ThermalZone(int number, string type, long millidegrees, params (long Millidegrees, string Type)[] trips)
    {
        var folder = $"/sys/class/thermal/thermal_zone{number}";
        Value($"{folder}/type", type);
        Value($"{folder}/temp", millidegrees);
        Value($"{folder}/mode", "enabled");
        for (var i = 0; i < trips.Length; i++)
        {
            Value($"{folder}/trip_point_{i}_temp", trips[i].Millidegrees);
            Value($"{folder}/trip_point_{i}_type", trips[i].Type);
        }
        return this;
    }
}
