namespace EdgeNode.Hardware.Probing;

/// <summary>Turns a device-tree compatible string ("brcm,bcm2712") into a name people use ("Broadcom BCM2712").</summary>
internal static class SocNames
{
    private static readonly Dictionary<string, string> s_vendors = new(StringComparer.Ordinal)
    {
        ["brcm"] = "Broadcom",
        ["rockchip"] = "Rockchip",
        ["nvidia"] = "NVIDIA",
        ["qcom"] = "Qualcomm",
        ["amlogic"] = "Amlogic",
        ["allwinner"] = "Allwinner",
        ["mediatek"] = "MediaTek",
        ["samsung"] = "Samsung",
        ["fsl"] = "NXP",
        ["nxp"] = "NXP",
        ["ti"] = "TI",
        ["starfive"] = "StarFive",
        ["sophgo"] = "Sophgo",
    };

    private static readonly Dictionary<string, string> s_tegraNames = new(StringComparer.Ordinal)
    {
        ["tegra234"] = "Tegra234 (Orin)",
        ["tegra194"] = "Tegra194 (Xavier)",
        ["tegra186"] = "Tegra186 (TX2)",
        ["tegra210"] = "Tegra210 (TX1/Nano)",
    };

    private static readonly Dictionary<string, string> s_androidSocMakers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["QTI"] = "Qualcomm",
        ["Qualcomm"] = "Qualcomm",
        ["Mediatek"] = "MediaTek",
        ["Google"] = "Google",
        ["Samsung"] = "Samsung",
    };

    /// <summary>
    /// The SoC from a compatible list. The board's own entries come first and the SoC's last, so
    /// the last entry whose vendor is a SoC maker names the chip.
    /// </summary>
    public static string? FromCompatible(IReadOnlyList<string> compatible)
    {
        for (var i = compatible.Count - 1; i >= 0; i--)
        {
            var entry = compatible[i];
            var comma = entry.IndexOf(',', StringComparison.Ordinal);
            if (comma <= 0)
                continue;
            var vendor = entry[..comma];
            var chip = entry[(comma + 1)..];
            if (!s_vendors.TryGetValue(vendor, out var vendorName))
                continue;
            if (vendor == "nvidia")
                return $"{vendorName} {(s_tegraNames.TryGetValue(chip, out var tegra) ? tegra : chip)}";
            return $"{vendorName} {chip.ToUpperInvariant()}";
        }
        return null;
    }

    public static string? FromAndroid(string? manufacturer, string? model, string? platform)
    {
        if (model is not null)
        {
            var maker = manufacturer is not null && s_androidSocMakers.TryGetValue(manufacturer, out var known) ? known : manufacturer;
            return maker is null ? model : $"{maker} {model}";
        }
        return platform;
    }
}
