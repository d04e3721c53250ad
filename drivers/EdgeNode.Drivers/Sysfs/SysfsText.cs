using System.Globalization;

namespace EdgeNode.Drivers.Sysfs;

/// <summary>
/// Reading the one-value text files of sysfs and procfs. A missing or unreadable file is normal
/// (a board without that sensor, a phone that hides it), so every reader returns null, never throws.
/// </summary>
public static class SysfsText
{
    public static string? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The file's text without trailing newline and the NUL that device-tree strings end with.</summary>
    public static string? TryReadLine(string path) => TryRead(path)?.TrimEnd('\n', '\r', '\0', ' ', '\t');

    public static long? TryReadLong(string path) =>
        long.TryParse(TryReadLine(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>A device-tree string list (NUL separated), e.g. /proc/device-tree/compatible.</summary>
    public static IReadOnlyList<string> TryReadStringList(string path) =>
        TryRead(path)?.Split('\0', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    /// <summary>Writes a value the way echo does; false when the kernel refused it.</summary>
    public static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Joins a root ("/" on a real system, a temp folder in tests) with an absolute system path.</summary>
    public static string Under(string root, string absolutePath) =>
        Path.Combine(root, absolutePath.TrimStart('/'));

    /// <summary>Subfolders (or links to folders) named prefix + number, in number order: thermal_zone0, hwmon3, cpu12.</summary>
    public static IReadOnlyList<(int Number, string Path)> NumberedEntries(string folder, string prefix)
    {
        if (!Directory.Exists(folder))
            return [];
        var found = new List<(int, string)>();
        try
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder, prefix + "*"))
            {
                var name = Path.GetFileName(entry);
                if (int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
                    found.Add((number, entry));
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        found.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return found;
    }
}
