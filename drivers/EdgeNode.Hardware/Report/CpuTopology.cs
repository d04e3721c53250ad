namespace EdgeNode.Hardware.Report;

/// <summary>
/// The CPU as the thread placement needs it. IsaFeatures uses stable lower-case names:
/// neon, fp16, dotprod, i8mm, bf16, sve, sve2, sme; sse4.2, avx, avx2, fma, f16c, avx512f,
/// avx512bw, avx512vl, avx512-vnni, avx512-bf16, avx-vnni, amx.
/// </summary>
public sealed record CpuTopology(
    int LogicalCores,
    string? ModelName,
    IReadOnlyList<CpuCluster> Clusters,
    IReadOnlyList<int> PerformanceCoreIds,
    IReadOnlyList<string> IsaFeatures);
