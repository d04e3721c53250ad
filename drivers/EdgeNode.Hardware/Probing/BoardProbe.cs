using EdgeNode.Drivers.Sysfs;
using EdgeNode.Hardware.Report;

namespace EdgeNode.Hardware.Probing;

/// <summary>
/// Names the board. Order of trust: Android build properties on a phone (its device tree names a
/// reference design, not the product), then the device tree on ARM boards, then DMI on PCs, then
/// /proc/cpuinfo's Model/Hardware lines.
/// </summary>
internal static class BoardProbe
{
    private static readonly string[] s_placeholderDmi = ["To be filled by O.E.M.", "Default string", "System Product Name", "Not Applicable", "None", ""];

    public static BoardInfo Probe(string root, ProcCpuInfo cpuInfo)
    {
        var compatible = SysfsText.TryReadStringList(SysfsText.Under(root, "/proc/device-tree/compatible"));
        if (compatible.Count == 0)
            compatible = SysfsText.TryReadStringList(SysfsText.Under(root, "/sys/firmware/devicetree/base/compatible"));
        var treeModel = SysfsText.TryReadLine(SysfsText.Under(root, "/proc/device-tree/model"))
            ?? SysfsText.TryReadLine(SysfsText.Under(root, "/sys/firmware/devicetree/base/model"));
        var android = AndroidProperties.Read(root);
        var architecture = Architecture(root, cpuInfo);
        var kernel = SysfsText.TryReadLine(SysfsText.Under(root, "/proc/sys/kernel/osrelease"));

        string model;
        string source;
        string? soc;
        if (android.IsAndroid && android.Product("model") is { } phoneModel)
        {
            var maker = android.Product("manufacturer") ?? android.Product("brand");
            model = maker is null || phoneModel.StartsWith(maker, StringComparison.OrdinalIgnoreCase) ? phoneModel : $"{maker} {phoneModel}";
            source = "android";
            soc = SocNames.FromAndroid(android["ro.soc.manufacturer"], android["ro.soc.model"], android["ro.board.platform"])
                ?? SocNames.FromCompatible(compatible)
                ?? SysfsText.TryReadLine(SysfsText.Under(root, "/sys/devices/soc0/machine"));
        }
        else if (treeModel is { Length: > 0 })
        {
            model = treeModel;
            source = "device-tree";
            soc = SocNames.FromCompatible(compatible) ?? SysfsText.TryReadLine(SysfsText.Under(root, "/sys/devices/soc0/machine"));
        }
        else if (DmiModel(root) is { } dmiModel)
        {
            model = dmiModel;
            source = "dmi";
            soc = cpuInfo.First("model name");
        }
        else
        {
            model = cpuInfo.First("Model") ?? cpuInfo.First("Hardware") ?? "unknown";
            source = "cpuinfo";
            soc = cpuInfo.First("Hardware") ?? cpuInfo.First("model name");
        }

        return new BoardInfo(model, Classify(model, compatible, android.IsAndroid, cpuInfo), source, soc, compatible, architecture, kernel);
    }

    private static string? DmiModel(string root)
    {
        string? Read(string name)
        {
            var value = SysfsText.TryReadLine(SysfsText.Under(root, $"/sys/class/dmi/id/{name}"));
            return value is null || s_placeholderDmi.Contains(value, StringComparer.OrdinalIgnoreCase) ? null : value;
        }

        var vendor = Read("sys_vendor") ?? Read("board_vendor");
        var product = Read("product_name") ?? Read("board_name");
        if (product is null)
            return vendor;
        return vendor is null || product.StartsWith(vendor, StringComparison.OrdinalIgnoreCase) ? product : $"{vendor} {product}";
    }

    private static BoardPlatform Classify(string model, IReadOnlyList<string> compatible, bool android, ProcCpuInfo cpuInfo)
    {
        if (android)
            return BoardPlatform.AndroidPhone;
        if (compatible.Any(entry => entry.StartsWith("raspberrypi,", StringComparison.Ordinal)) || model.StartsWith("Raspberry Pi", StringComparison.Ordinal))
            return BoardPlatform.RaspberryPi;
        if (compatible.Any(entry => entry.StartsWith("nvidia,tegra", StringComparison.Ordinal)) || model.Contains("Jetson", StringComparison.Ordinal))
            return BoardPlatform.Jetson;
        if (compatible.Any(entry => entry.StartsWith("rockchip,", StringComparison.Ordinal)))
            return BoardPlatform.Rockchip;
        if (cpuInfo.IsX86)
            return BoardPlatform.X86Pc;
        if (cpuInfo.IsArm || compatible.Count > 0)
            return BoardPlatform.OtherArm;
        return BoardPlatform.Unknown;
    }

    private static string Architecture(string root, ProcCpuInfo cpuInfo)
    {
        if (cpuInfo.IsX86)
            return cpuInfo.First("flags")?.Split(' ').Contains("lm") == true ? "x86_64" : "x86";
        if (cpuInfo.IsArm)
            return cpuInfo.First("CPU architecture") is "8" or "9" || cpuInfo.First("Features")?.Contains("asimd", StringComparison.Ordinal) == true ? "aarch64" : "arm";
        // No cpuinfo to go by (a restricted sandbox): only the real machine can answer for itself.
        return root == "/" ? System.Runtime.InteropServices.RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant() : "unknown";
    }
}
