using EdgeNode.Inference.Runtime;

namespace EdgeNode.Agent.Cli;

/// <summary>The runtime options shared by every command that runs a model: --threads, --ep, --ort-library.</summary>
public static class InferenceArguments
{
    public static InferenceOptions Read(ArgumentReader args)
    {
        var threads = args.Int("threads", 0, 0, 1024);
        var epText = args.String("ep");
        var eps = epText is null
            ? ["cpu"]
            : epText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new InferenceOptions
        {
            Threads = threads,
            ExecutionProviders = eps,
            OrtLibraryPath = args.String("ort-library"),
            VerboseRuntimeLog = args.Flag("ort-verbose"),
        };
    }
}
