namespace EdgeNode.Inference.Runtime;

/// <summary>How ONNX Runtime sessions are created. Every default here is what `edgenode generate` uses.</summary>
public sealed record InferenceOptions
{
    /// <summary>Intra-op threads; 0 means one per physical core ONNX Runtime sees.</summary>
    public int Threads { get; init; }

    /// <summary>Execution providers in order of preference, e.g. ["xnnpack", "cpu"]. CPU is always the last resort.</summary>
    public IReadOnlyList<string> ExecutionProviders { get; init; } = ["cpu"];

    /// <summary>Per-EP options (key=value), keyed by the EP's short name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ProviderOptions { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>Explicit path of libonnxruntime; null searches the usual places (see OrtLibraryLocator).</summary>
    public string? OrtLibraryPath { get; init; }

    /// <summary>ONNX Runtime session config entries (e.g. session.intra_op.allow_spinning=0), applied to every session.</summary>
    public IReadOnlyDictionary<string, string> SessionConfig { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Run 4-bit MatMulNBits on EdgeNode's own CPU kernel (EdgeNode.Kernels) where the processor has AVX-VNNI or the arm64
    /// dot-product instructions and the CPU is the only execution provider; false keeps ONNX Runtime's kernel everywhere.
    /// </summary>
    public bool OwnKernels { get; init; } = true;

    /// <summary>Log ONNX Runtime's own messages at this level and above (quiet by default).</summary>
    public bool VerboseRuntimeLog { get; init; }
}
