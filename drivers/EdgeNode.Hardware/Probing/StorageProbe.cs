using EdgeNode.Drivers.Sysfs;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware.Probing;

/// <summary>Block devices from /sys/block (size in 512-byte sectors), without loop, ram, zram and device-mapper nodes.</summary>
internal static class StorageProbe
{
    private static readonly string[] s_skipped = ["loop", "ram", "zram", "dm-", "sr", "md", "nbd", "mtdblock"];

    public static StorageInfo Probe(string root)
    {
        var devices = new List<StorageDevice>();
        var blockFolder = SysfsText.Under(root, "/sys/block");
        if (Directory.Exists(blockFolder))
        {
            foreach (var path in Directory.EnumerateFileSystemEntries(blockFolder).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(path);
                if (s_skipped.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))
                    continue;
                var sectors = SysfsText.TryReadLong(Path.Combine(path, "size")) ?? 0;
                if (sectors == 0)
                    continue;
                var removable = SysfsText.TryReadLong(Path.Combine(path, "removable")) == 1;
                var rotational = SysfsText.TryReadLong(Path.Combine(path, "queue", "rotational")) == 1;
                var model = SysfsText.TryReadLine(Path.Combine(path, "device", "model"))?.Trim()
                    ?? SysfsText.TryReadLine(Path.Combine(path, "device", "name"))?.Trim();
                var kind = Kind(name, removable, rotational, SysfsText.TryReadLine(Path.Combine(path, "device", "type")));
                devices.Add(new StorageDevice(name, kind, sectors * 512, removable, string.IsNullOrEmpty(model) ? null : model));
            }
        }

        long? free = null;
        long? total = null;
        try
        {
            var drive = new DriveInfo(Path.GetFullPath(root));
            free = drive.AvailableFreeSpace;
            total = drive.TotalSize;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        catch (ArgumentException)
        {
        }
        return new StorageInfo(devices, free, total);
    }

    private static string Kind(string name, bool removable, bool rotational, string? mmcType)
    {
        if (name.StartsWith("nvme", StringComparison.Ordinal))
            return "nvme";
        if (name.StartsWith("mmcblk", StringComparison.Ordinal))
            return mmcType == "SD" ? "sd-card" : "emmc";
        if (name.StartsWith("vd", StringComparison.Ordinal) || name.StartsWith("xvd", StringComparison.Ordinal))
            return "virtual";
        if (name.StartsWith("sd", StringComparison.Ordinal) && removable)
            return "usb";
        return rotational ? "hdd" : "ssd";
    }
}
