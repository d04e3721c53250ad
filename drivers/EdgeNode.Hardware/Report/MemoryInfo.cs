namespace EdgeNode.Hardware.Report;

/// <summary>From /proc/meminfo: MemTotal, MemAvailable (what can be had without swapping), SwapTotal.</summary>
public sealed record MemoryInfo(long TotalBytes, long AvailableBytes, long SwapTotalBytes);
