using EdgeNode.Inference.Runtime;

namespace EdgeNode.Agent.Cli;

/// <summary>The runtime options shared by every command that runs a model: --threads, --ep, --ort-library.</summary>
public static class InferenceArguments
{
    public const string Help = """
          --threads N        intra-op threads (default: all cores)
          --ep LIST          execution providers in order, e.g. xnnpack,cpu (default cpu)
          --ort-config K=V;… ONNX Runtime session config entries (also EDGENODE_ORT_CONFIG)
          --ort-library F    path of libonnxruntime.so (default: EDGENODE_ORT_LIBRARY, then beside the binary)
          --ort-verbose      ONNX Runtime's own log at info level on stderr
          --kernels K        4-bit matrix kernels: edgenode (default; EdgeNode's own where the CPU has
                             AVX-VNNI or arm64 dot product and cpu is the only EP) or onnxruntime

        """;

    public static InferenceOptions Read(ArgumentReader args)
    {
        var threads = args.Int("threads", 0, 0, 1024);
        var epText = args.String("ep");
        var eps = epText is null
            ? ["cpu"]
            : epText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in (args.String("ort-config") ?? Environment.GetEnvironmentVariable("EDGENODE_ORT_CONFIG") ?? "")
                     .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new UsageException($"--ort-config '{entry}' is not key=value (e.g. session.intra_op.allow_spinning=0)");
            config[entry[..eq]] = entry[(eq + 1)..];
        }
        var kernels = args.String("kernels") ?? Environment.GetEnvironmentVariable("EDGENODE_KERNELS") ?? "edgenode";
        if (kernels is not ("edgenode" or "onnxruntime"))
            throw new UsageException($"--kernels '{kernels}' is not edgenode or onnxruntime");
        return new InferenceOptions
        {
            OwnKernels = kernels == "edgenode",
            SessionConfig = config,
            Threads = threads,
            ExecutionProviders = eps,
            OrtLibraryPath = args.String("ort-library"),
            VerboseRuntimeLog = args.Flag("ort-verbose"),
        };
    }
}
