using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Runtime;
using EdgeNode.OnnxRuntime;
using ArmBase = System.Runtime.Intrinsics.Arm;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode devices`: what this device can run on: ONNX Runtime, its working EPs, CPU, memory.</summary>
public static class DevicesCommand
{
    public const string Help = """
        usage: edgenode devices [--json] [--ort-library F]

        ONNX Runtime's version and library, every execution provider it lists and whether it really ran a
        smoke model here, the CPU (model, cores, ISA features) and memory.
        """;

    public static int Run(ArgumentReader args)
    {
        var json = args.Flag("json");
        var library = args.String("ort-library");
        args.RejectUnknown();

        var runtime = OrtRuntime.Load(library);
        using var environment = new OrtEnvironment(runtime, OrtLogLevel.Fatal);
        var eps = ExecutionProviderProbe.Probe(environment);
        var report = new DevicesReport
        {
            OrtVersion = runtime.Version,
            OrtLibrary = runtime.LibraryPath,
            ExecutionProviders = eps.Select(e => new DevicesEp { Name = e.Name, Listed = e.Listed, Runs = e.Runs, Detail = e.Detail }).ToArray(),
            Cpu = CpuModel(),
            Architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            LogicalCores = Environment.ProcessorCount,
            IsaFeatures = IsaFeatures(),
            MemoryTotalMb = MemInfo("MemTotal") / 1024,
            MemoryAvailableMb = MemInfo("MemAvailable") / 1024,
        };
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(report, DevicesJsonContext.Default.DevicesReport));
            return 0;
        }
        var o = Console.Out;
        o.WriteLine($"onnxruntime   {report.OrtVersion}  ({report.OrtLibrary})");
        o.WriteLine("execution providers:");
        foreach (var ep in report.ExecutionProviders)
            o.WriteLine($"  {ep.Name,-10} {(ep.Runs ? "runs" : "fails"),-6} {ep.Detail}");
        o.WriteLine($"cpu           {report.Cpu} ({report.Architecture}, {report.LogicalCores} logical cores)");
        o.WriteLine($"isa           {string.Join(' ', report.IsaFeatures)}");
        o.WriteLine($"memory        {report.MemoryTotalMb} MB total, {report.MemoryAvailableMb} MB available");
        return 0;
    }

    private static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) || line.StartsWith("Model", StringComparison.Ordinal) || line.StartsWith("Hardware", StringComparison.Ordinal))
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException) { }
        return "unknown";
    }

    private static string[] IsaFeatures()
    {
        var f = new List<string>();
        if (Avx2.IsSupported) f.Add("avx2");
        if (Fma.IsSupported) f.Add("fma");
        if (Avx512F.IsSupported) f.Add("avx512f");
        if (Avx512BW.IsSupported) f.Add("avx512bw");
        if (AvxVnni.IsSupported) f.Add("avxvnni");
        if (ArmBase.AdvSimd.IsSupported) f.Add("neon");
        if (ArmBase.Dp.IsSupported) f.Add("dotprod");
        if (ArmBase.Rdm.IsSupported) f.Add("rdm");
        return [.. f];
    }

    private static long MemInfo(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith(key + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (IOException) { }
        return 0;
    }
}

public sealed class DevicesReport
{
    public required string OrtVersion { get; init; }
    public required string OrtLibrary { get; init; }
    public required DevicesEp[] ExecutionProviders { get; init; }
    public required string Cpu { get; init; }
    public required string Architecture { get; init; }
    public int LogicalCores { get; init; }
    public required string[] IsaFeatures { get; init; }
    public long MemoryTotalMb { get; init; }
    public long MemoryAvailableMb { get; init; }
}

public sealed class DevicesEp
{
    public required string Name { get; init; }
    public bool Listed { get; init; }
    public bool Runs { get; init; }
    public required string Detail { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DevicesReport))]
internal sealed partial class DevicesJsonContext : JsonSerializerContext;
