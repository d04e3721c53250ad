using System.Globalization;

namespace EdgeNode.Gateway.Modes;

/// <summary>
/// The memory a model may take on this node: the configured budget, else what the kernel reports available
/// (MemAvailable, which counts reclaimable cache, unlike MemFree). Read at most once a second.
/// </summary>
public sealed class NodeMemory(long? budgetBytes)
{
    private static readonly TimeSpan s_refresh = TimeSpan.FromSeconds(1);
    private readonly Lock _gate = new();
    private long _available;
    private DateTime _readAt = DateTime.MinValue;

    public long? BudgetBytes { get; } = budgetBytes;

    /// <summary>Bytes a model may take now; null when unknown (no budget and no /proc/meminfo), then every model is taken to fit.</summary>
    public long? AvailableBytes
    {
        get
        {
            if (BudgetBytes is { } budget)
                return budget;
            lock (_gate)
            {
                if (DateTime.UtcNow - _readAt > s_refresh)
                {
                    _available = ReadMemAvailable();
                    _readAt = DateTime.UtcNow;
                }
                return _available > 0 ? _available : null;
            }
        }
    }

    private static long ReadMemAvailable()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }

    /// <summary>"2.1 GB", "640 KB": sizes in the picker's messages.</summary>
    public static string Describe(long bytes) => bytes switch
    {
        >= 1_000_000_000 => (bytes / 1e9).ToString("0.0", CultureInfo.InvariantCulture) + " GB",
        >= 1_000_000 => (bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
        >= 1_000 => (bytes / 1e3).ToString("0", CultureInfo.InvariantCulture) + " KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };
}
