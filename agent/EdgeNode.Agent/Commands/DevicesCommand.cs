using EdgeNode.Agent.Cli;
using EdgeNode.Hardware;
using EdgeNode.Inference.Runtime;
using EdgeNode.OnnxRuntime;
using HardwareEp = EdgeNode.Hardware.Report.ExecutionProviderStatus;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode devices`: the hardware probe plus ONNX Runtime and the execution providers that really run.</summary>
public static class DevicesCommand
{
    public const string Help = """
        usage: edgenode devices [options]

        Board, SoC, CPU clusters and ISA features, memory, storage, accelerator device nodes, thermal zones,
        power sensors, battery and fans; ONNX Runtime's version and every execution provider it lists, with
        whether it really ran a smoke model here.

          --json             print one JSON object instead of the report
          --root DIR         probe another root, e.g. a board image mounted here (default /)
          --ort-library F    path of libonnxruntime.so (default: EDGENODE_ORT_LIBRARY, then beside the binary)

        """;

    public static int Run(ArgumentReader args)
    {
        var json = args.Flag("json");
        var root = args.String("root") ?? "/";
        var library = args.String("ort-library");
        args.RejectUnknown();

        var runtime = OrtRuntime.Load(library);
        var eps = ExecutionProviderProbe.Probe(runtime);
        var report = HardwareProbe.Probe(root) with
        {
            RuntimeVersion = runtime.Version,
            ExecutionProviders = eps.Select(e => new HardwareEp(e.Name, e.Listed, e.Runs, e.Detail)).ToArray(),
        };
        if (json)
        {
            Console.Out.WriteLine(report.ToJson());
            return 0;
        }
        Console.Out.WriteLine($"onnxruntime {runtime.Version} ({runtime.LibraryPath})");
        Console.Out.Write(report.ToText());
        return 0;
    }
}
