namespace EdgeNode.Hardware.Report;

/// <summary>
/// Cores that share a cpufreq policy (one clock domain). Performance clusters are where the
/// inference threads go; the slowest cluster of a big.LITTLE SoC is left to the OS and I/O.
/// </summary>
public sealed record CpuCluster(
    IReadOnlyList<int> CoreIds,
    string? CoreType,
    long? MaxFrequencyKHz,
    int? Capacity,
    bool IsPerformance);
