using EdgeNode.Models.Onnx;
using EdgeNode.OnnxRuntime;
using EdgeNode.OnnxRuntime.CustomOps;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.Inference.Runtime;

/// <summary>
/// The process's ONNX Runtime: the loaded library, its environment, and the session options every slice is
/// created with. It resolves the requested execution providers once and remembers which actually applied,
/// so callers can report the EP that ran.
/// </summary>
public sealed class InferenceRuntime
{
    private const string AllowSpinningKey = "session.intra_op.allow_spinning";

    private readonly List<string> _fallbacks = [];

    public InferenceRuntime(InferenceOptions options)
    {
        Options = options;
        // Unknown names are a configuration mistake: refused before anything loads.
        var requested = options.ExecutionProviders.Select(ExecutionProvider.Find).ToList();
        Runtime = OrtRuntime.Load(options.OrtLibraryPath, options.VerboseRuntimeLog);
        ActiveProviders = ResolveProviders(requested);
    }

    public InferenceOptions Options { get; }
    public OrtRuntime Runtime { get; }

    /// <summary>The EPs that applied, in order, ending with "cpu".</summary>
    public IReadOnlyList<string> ActiveProviders { get; }

    /// <summary>Requested EPs that could not be used, with ONNX Runtime's reason.</summary>
    public IReadOnlyList<string> ProviderFallbacks => _fallbacks;

    /// <summary>
    /// Whether sessions run 4-bit MatMulNBits on EdgeNode's own kernel: asked for (<see cref="InferenceOptions.OwnKernels"/>),
    /// the processor has the instructions, and the CPU is the only EP (another EP takes the stock operator as it is).
    /// </summary>
    public bool UsesOwnKernels => Options.OwnKernels && CpuKernels.IsAvailable && ActiveProviders is ["cpu"];

    /// <summary>What runs the 4-bit matrix products, for reports: "edgenode (avx-vnni)" or "onnxruntime".</summary>
    public string MatMulKernels => UsesOwnKernels ? $"edgenode ({CpuKernels.InstructionSet})" : "onnxruntime";

    /// <summary>
    /// A session over the graph at <paramref name="onnxPath"/> with <paramref name="threads"/> intra-op threads. With
    /// <see cref="UsesOwnKernels"/>, the graph's 4-bit MatMulNBits nodes move to EdgeNode's kernel domain in memory (the file
    /// is not changed; its external data is read from its folder as before).
    /// </summary>
    public InferenceSession CreateSession(string onnxPath, int threads)
    {
        using var options = CreateSessionOptions(threads);
        if (UsesOwnKernels)
        {
            var moved = OnnxDomainRewriter.MoveNodes(File.ReadAllBytes(onnxPath), RunsOnOwnKernel, CpuKernels.Domain, 1, out _);
            if (moved is not null)
            {
                CpuKernels.AddTo(options);
                options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(Path.GetFullPath(onnxPath))!);
                return new InferenceSession(moved, options);
            }
        }
        return new InferenceSession(onnxPath, options);
    }

    /// <summary>A com.microsoft MatMulNBits node EdgeNode's kernel computes (4-bit, no zero points, a supported block and K).</summary>
    private static bool RunsOnOwnKernel(OnnxNodeView node) =>
        node is { OpType: CpuKernels.MatMulOperator, Domain: "com.microsoft" }
        && CpuKernels.Supports(node.Attribute("K"), node.Attribute("N"), node.Attribute("bits"), node.Attribute("block_size"), node.InputCount);

    /// <summary>
    /// Options for one session with <paramref name="threads"/> intra-op threads (0: one per physical core; with two or
    /// more the workers spin) and everything else as <see cref="Options"/> says. A slice with layers gets
    /// <see cref="InferenceOptions.Threads"/> (or the device governor's step of it); a slice without layers (the
    /// embedding's gather, a head of its own) gets 1, the caller's thread. The caller disposes them once the session is
    /// created.
    /// </summary>
    /// <remarks>
    /// One spinning pool, not three: a decode step runs a few hundred small parallel sections in the layers, and waking
    /// a sleeping worker for each costs more than the section on small models, while idle pools of the other slices
    /// spinning beside it would take the core the caller needs. Measured on 2 cores, idle, Q4_0 at the stories110M
    /// shape (docs/benchmarks.md): 176 tok/s with no spinning and two threads everywhere, 76 with every session spinning,
    /// 148 with one-thread embedding and head but no spinning, 240–314 with both (native llama.cpp 193–267 in the same
    /// runs); the TinyLlama-1.1B shape stayed within its spread (19.5 → 18.5–18.7 tok/s).
    /// A session config entry the user gave (--ort-config session.intra_op.allow_spinning=…) wins.
    /// </remarks>
    public SessionOptions CreateSessionOptions(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            LogSeverityLevel = Options.VerboseRuntimeLog ? OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO : OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        try
        {
            // Not for 0 (ONNX Runtime's own count, a thread pinned to each core): pinned workers spinning beside the
            // unpinned caller made a one-token stories260K run 8-11 ms slower from process start.
            if (!Options.SessionConfig.ContainsKey(AllowSpinningKey))
                options.AddSessionConfigEntry(AllowSpinningKey, threads > 1 ? "1" : "0");
            foreach (var (key, value) in Options.SessionConfig)
                options.AddSessionConfigEntry(key, value);
            foreach (var ep in ActiveProviders)
            {
                if (ep == "cpu")
                    continue;
                ExecutionProvider.Find(ep).TryAppend(options, Runtime, ProviderOptionsFor(ep));
            }
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private List<string> ResolveProviders(List<ExecutionProvider> requested)
    {
        var active = new List<string>();
        foreach (var provider in requested)
        {
            if (provider.ShortName == "cpu" || active.Contains(provider.ShortName))
                continue;
            using var probe = new SessionOptions();
            if (provider.TryAppend(probe, Runtime, ProviderOptionsFor(provider.ShortName)) is { } reason)
                _fallbacks.Add(reason);
            else
                active.Add(provider.ShortName);
        }
        active.Add("cpu");
        return active;
    }

    private IReadOnlyDictionary<string, string>? ProviderOptionsFor(string ep)
    {
        foreach (var (name, options) in Options.ProviderOptions)
        {
            if (string.Equals(name, ep, StringComparison.OrdinalIgnoreCase))
                return options;
        }
        return null;
    }
}
