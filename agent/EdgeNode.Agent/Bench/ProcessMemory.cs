namespace EdgeNode.Agent.Bench;

/// <summary>Resident memory of this process from /proc/self/status (Linux; 0 elsewhere).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes.</summary>
    public static long PeakResidentBytes => Read("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes.</summary>
    public static long ResidentBytes => Read("VmRSS:");

    private static long Read(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException) { }
        return 0;
    }
}
