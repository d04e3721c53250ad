namespace EdgeNode.Hardware.Probing;

/// <summary>Arm Ltd. core part numbers ("CPU part" in /proc/cpuinfo with implementer 0x41) and their names.</summary>
internal static class ArmCoreNames
{
    private static readonly Dictionary<int, string> s_armParts = new()
    {
        [0xd03] = "Cortex-A53",
        [0xd04] = "Cortex-A35",
        [0xd05] = "Cortex-A55",
        [0xd07] = "Cortex-A57",
        [0xd08] = "Cortex-A72",
        [0xd09] = "Cortex-A73",
        [0xd0a] = "Cortex-A75",
        [0xd0b] = "Cortex-A76",
        [0xd0c] = "Neoverse-N1",
        [0xd0d] = "Cortex-A77",
        [0xd40] = "Neoverse-V1",
        [0xd41] = "Cortex-A78",
        [0xd42] = "Cortex-A78AE",
        [0xd44] = "Cortex-X1",
        [0xd46] = "Cortex-A510",
        [0xd47] = "Cortex-A710",
        [0xd48] = "Cortex-X2",
        [0xd49] = "Neoverse-N2",
        [0xd4b] = "Cortex-A78C",
        [0xd4d] = "Cortex-A715",
        [0xd4e] = "Cortex-X3",
        [0xd4f] = "Neoverse-V2",
        [0xd80] = "Cortex-A520",
        [0xd81] = "Cortex-A720",
        [0xd82] = "Cortex-X4",
        [0xd85] = "Cortex-X925",
        [0xd87] = "Cortex-A725",
    };

    public static string? Name(string? implementer, string? part)
    {
        if (part is null)
            return null;
        var partNumber = ParseHex(part);
        if (partNumber is null)
            return null;
        var implementerNumber = implementer is null ? 0x41 : ParseHex(implementer);
        if (implementerNumber == 0x41 && s_armParts.TryGetValue(partNumber.Value, out var name))
            return name;
        return implementerNumber switch
        {
            0x51 => $"Qualcomm 0x{partNumber:x3}",
            0x4e => $"NVIDIA 0x{partNumber:x3}",
            0x61 => $"Apple 0x{partNumber:x3}",
            _ => $"0x{implementerNumber ?? 0:x2}:0x{partNumber:x3}",
        };
    }

    private static int? ParseHex(string text)
    {
        var digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        return int.TryParse(digits, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
