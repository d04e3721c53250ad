using System.Globalization;
using EdgeNode.Drivers.Sysfs;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware.Probing;

/// <summary>
/// Cores, clusters and their speeds from /sys/devices/system/cpu: a cluster is a cpufreq policy
/// (related_cpus), its speed cpuinfo_max_freq (kHz) and, on ARM, cpu_capacity (1024 = biggest).
/// Performance cores are every core faster than the slowest cluster; a SoC of equal cores is all
/// performance cores.
/// </summary>
internal static class CpuProbe
{
    private sealed record Core(int Id, long? MaxKHz, int? Capacity, string? Type, string ClusterKey)
    {
        public string KindKey => $"kind:{Type}:{MaxKHz}:{Capacity}";
    }

    public static CpuTopology Probe(string root, ProcCpuInfo cpuInfo)
    {
        var cpuFolder = SysfsText.Under(root, "/sys/devices/system/cpu");
        var coreIds = SysfsText.NumberedEntries(cpuFolder, "cpu").Select(entry => entry.Number).ToList();
        if (coreIds.Count == 0)
        {
            coreIds = [.. cpuInfo.Processors
                .Select(block => int.TryParse(block["processor"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : -1)
                .Where(n => n >= 0)];
        }
        var online = ParseCpuList(SysfsText.TryReadLine(Path.Combine(cpuFolder, "online")));
        if (online.Count > 0 && coreIds.Any(online.Contains))
            coreIds = [.. coreIds.Where(online.Contains)];

        var cores = coreIds.Select(id => ReadCore(cpuFolder, id, cpuInfo)).ToList();
        // intel_pstate and amd-pstate give every core its own policy; there the clock domains say
        // nothing about core kinds, so cores are grouped by type and speed instead.
        if (cores.Count > 1 && cores.Select(core => core.ClusterKey).Distinct().Count() == cores.Count)
            cores = [.. cores.Select(core => core with { ClusterKey = core.KindKey })];
        var clusters = cores
            .GroupBy(core => core.ClusterKey)
            .Select(group => group.OrderBy(core => core.Id).ToList())
            .OrderBy(group => group[0].Capacity ?? 0)
            .ThenBy(group => group[0].MaxKHz ?? 0)
            .ThenBy(group => group[0].Id)
            .ToList();

        // A core is "performance" when it is faster than the slowest one (by capacity, else max frequency).
        static long Speed(Core core) => core.Capacity ?? core.MaxKHz ?? 0;
        var slowest = cores.Count == 0 ? 0 : cores.Min(Speed);
        var allEqual = cores.All(core => Speed(core) == slowest);
        var clusterRecords = clusters.Select(group => new CpuCluster(
            [.. group.Select(core => core.Id)],
            group[0].Type,
            group.Max(core => core.MaxKHz),
            group.Max(core => core.Capacity),
            allEqual || group.Any(core => Speed(core) > slowest))).ToList();

        var performance = clusterRecords.Where(cluster => cluster.IsPerformance).SelectMany(cluster => cluster.CoreIds).Order().ToList();
        var modelName = cpuInfo.First("model name")
            ?? (clusterRecords.Count > 0 ? string.Join(" + ", clusterRecords.Select(c => $"{c.CoreIds.Count}x {c.CoreType ?? "core"}")) : null);

        return new CpuTopology(cores.Count, modelName, clusterRecords, performance, IsaFeatureNames.FromCpuInfo(cpuInfo));
    }

    private static Core ReadCore(string cpuFolder, int id, ProcCpuInfo cpuInfo)
    {
        var folder = Path.Combine(cpuFolder, $"cpu{id}");
        var maxKHz = SysfsText.TryReadLong(Path.Combine(folder, "cpufreq", "cpuinfo_max_freq"));
        var capacity = (int?)SysfsText.TryReadLong(Path.Combine(folder, "cpu_capacity"));
        var block = cpuInfo.ForCore(id);
        string? type = null;
        if (block is not null)
        {
            type = block.TryGetValue("CPU part", out var part)
                ? ArmCoreNames.Name(block.TryGetValue("CPU implementer", out var implementer) ? implementer : null, part)
                : null;
        }
        var related = SysfsText.TryReadLine(Path.Combine(folder, "cpufreq", "related_cpus"));
        // Cores of one clock domain share a policy; without cpufreq, same type and speed is the best guess.
        var core = new Core(id, maxKHz, capacity, type, "");
        return core with { ClusterKey = related is not null ? $"policy:{string.Join(',', ParseCpuList(related))}" : core.KindKey };
    }

    /// <summary>Parses the kernel's CPU list format ("0-3,6" or "0 1 2 3").</summary>
    internal static IReadOnlyList<int> ParseCpuList(string? text)
    {
        var ids = new SortedSet<int>();
        if (string.IsNullOrWhiteSpace(text))
            return [];
        foreach (var part in text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0
                && int.TryParse(part.AsSpan(0, dash), NumberStyles.Integer, CultureInfo.InvariantCulture, out var first)
                && int.TryParse(part.AsSpan(dash + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var last))
            {
                for (var id = first; id <= last && id - first < 4096; id++)
                    ids.Add(id);
            }
            else if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var single))
            {
                ids.Add(single);
            }
        }
        return [.. ids];
    }
}
