using EdgeNode.Drivers.Sysfs;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware.Probing;

/// <summary>
/// Device nodes that tell which accelerators and buses exist. A node's presence says a driver is
/// bound, not that a runtime can use it; the agent's smoke test decides that.
/// </summary>
internal static class DeviceNodeProbe
{
    private static readonly (string Folder, string Pattern, string Kind)[] s_patterns =
    [
        ("", "nvidia*", "nvidia-gpu"),
        ("", "nvhost-*", "nvidia-tegra"),
        ("", "nvmap", "nvidia-tegra"),
        ("", "nvgpu", "nvidia-tegra"),
        ("dri", "card*", "drm"),
        ("dri", "renderD*", "drm"),
        ("accel", "accel*", "accel"),
        ("", "fastrpc-*", "qualcomm-fastrpc"),
        ("", "adsprpc-smd*", "qualcomm-fastrpc"),
        ("", "kgsl-3d0", "adreno-gpu"),
        ("", "mali*", "mali-gpu"),
        ("", "rknpu*", "rockchip-npu"),
        ("", "apex_*", "coral-tpu"),
        ("", "hailo*", "hailo"),
        ("", "gpiochip*", "gpio"),
        ("", "i2c-*", "i2c"),
        ("", "spidev*", "spi"),
    ];

    public static IReadOnlyList<DeviceNode> Probe(string root)
    {
        var nodes = new List<DeviceNode>();
        var dev = SysfsText.Under(root, "/dev");
        foreach (var (folder, pattern, kind) in s_patterns)
        {
            var directory = folder.Length == 0 ? dev : Path.Combine(dev, folder);
            if (!Directory.Exists(directory))
                continue;
            try
            {
                foreach (var entry in Directory.EnumerateFileSystemEntries(directory, pattern).Order(StringComparer.Ordinal))
                {
                    var relative = folder.Length == 0 ? Path.GetFileName(entry) : $"{folder}/{Path.GetFileName(entry)}";
                    nodes.Add(new DeviceNode($"/dev/{relative}", kind));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        foreach (var (_, path) in SysfsText.NumberedEntries(SysfsText.Under(root, "/sys/class/pwm"), "pwmchip"))
            nodes.Add(new DeviceNode($"/sys/class/pwm/{Path.GetFileName(path)}", "pwm"));
        return nodes;
    }
}
