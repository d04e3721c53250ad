namespace EdgeNode.Hardware.Probing;

/// <summary>
/// The kernel's feature words (arm "Features", x86 "flags") mapped to the names the inference
/// kernels care about. Only features present on every core count: a big.LITTLE SoC whose little
/// cores lack i8mm cannot run i8mm code on a thread the scheduler may move there.
/// </summary>
internal static class IsaFeatureNames
{
    private static readonly (string Kernel, string Name)[] s_arm =
    [
        ("asimd", "neon"),
        ("asimdhp", "fp16"),
        ("asimddp", "dotprod"),
        ("i8mm", "i8mm"),
        ("bf16", "bf16"),
        ("sve", "sve"),
        ("sve2", "sve2"),
        ("sme", "sme"),
    ];

    private static readonly (string Kernel, string Name)[] s_x86 =
    [
        ("sse4_2", "sse4.2"),
        ("avx", "avx"),
        ("avx2", "avx2"),
        ("fma", "fma"),
        ("f16c", "f16c"),
        ("avx512f", "avx512f"),
        ("avx512bw", "avx512bw"),
        ("avx512vl", "avx512vl"),
        ("avx512_vnni", "avx512-vnni"),
        ("avx512_bf16", "avx512-bf16"),
        ("avx_vnni", "avx-vnni"),
        ("amx_tile", "amx"),
    ];

    public static IReadOnlyList<string> FromCpuInfo(ProcCpuInfo cpuInfo)
    {
        var key = cpuInfo.IsX86 ? "flags" : "Features";
        var table = cpuInfo.IsX86 ? s_x86 : s_arm;
        HashSet<string>? common = null;
        foreach (var block in cpuInfo.Processors)
        {
            if (!block.TryGetValue(key, out var words))
                continue;
            var set = words.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            if (common is null)
                common = set;
            else
                common.IntersectWith(set);
        }
        if (common is null && cpuInfo.Machine.TryGetValue(key, out var machineWords))
            common = machineWords.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (common is null)
            return [];
        return [.. table.Where(entry => common.Contains(entry.Kernel)).Select(entry => entry.Name)];
    }
}
