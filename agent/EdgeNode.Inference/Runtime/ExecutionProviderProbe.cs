using EdgeNode.Models.Onnx;
using EdgeNode.OnnxRuntime;

namespace EdgeNode.Inference.Runtime;

/// <summary>One execution provider and whether it really ran a model here.</summary>
public sealed record ExecutionProviderStatus(string Name, bool Listed, bool Runs, string Detail);

/// <summary>
/// Finds the execution providers that actually run, not just the ones the library lists: each
/// candidate gets a session over a small smoke model (MatMul + Add) and one run whose result is checked.
/// </summary>
public static class ExecutionProviderProbe
{
    private static readonly (string Short, string OrtName)[] s_candidates =
    [
        ("cpu", "CPUExecutionProvider"),
        ("xnnpack", "XnnpackExecutionProvider"),
        ("cuda", "CUDAExecutionProvider"),
        ("tensorrt", "TensorrtExecutionProvider"),
        ("openvino", "OpenVINOExecutionProvider"),
        ("qnn", "QNNExecutionProvider"),
        ("nnapi", "NnapiExecutionProvider"),
        ("coreml", "CoreMLExecutionProvider"),
        ("rocm", "ROCMExecutionProvider"),
        ("migraphx", "MIGraphXExecutionProvider"),
        ("dml", "DmlExecutionProvider"),
        ("webgpu", "WebGpuExecutionProvider"),
    ];

    public static IReadOnlyList<ExecutionProviderStatus> Probe(OrtEnvironment environment)
    {
        var listed = environment.Runtime.AvailableProviders;
        var folder = Path.Combine(Path.GetTempPath(), $"edgenode-ep-probe-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            var modelPath = Path.Combine(folder, "smoke.onnx");
            WriteSmokeModel(modelPath);
            var results = new List<ExecutionProviderStatus>();
            foreach (var (shortName, ortName) in s_candidates)
            {
                var isListed = listed.Contains(ortName);
                if (!isListed && shortName != "cpu")
                    continue;
                results.Add(TryRun(environment, modelPath, shortName, isListed));
            }
            return results;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static ExecutionProviderStatus TryRun(OrtEnvironment environment, string modelPath, string ep, bool listed)
    {
        try
        {
            using var options = new OrtSessionOptions { IntraOpThreads = 1 };
            if (ep != "cpu" && !options.TryAppendExecutionProvider(ep, null, out var reason))
                return new ExecutionProviderStatus(ep, listed, false, Summarize(reason ?? "could not be added"));
            using var session = new OrtSession(environment, modelPath, options);
            using var input = new NativeBuffer<float>(4);
            input.Span.Fill(1f);
            using var value = OrtValue.CreateTensor(input, [1, 4]);
            var outputs = session.Run(["x"], [value], ["y"]);
            try
            {
                var y = outputs[0].GetData<float>();
                // x·W + b with W = 0.5 everywhere and b = 1: every output is 3.
                var ok = y.Length == 4 && y.ToArray().All(v => Math.Abs(v - 3f) < 1e-3f);
                return new ExecutionProviderStatus(ep, listed, ok, ok ? "ran the smoke model" : "ran, but gave a wrong result");
            }
            finally
            {
                foreach (var o in outputs) o.Dispose();
            }
        }
        catch (OrtException e)
        {
            return new ExecutionProviderStatus(ep, listed, false, Summarize(e.Message));
        }
    }

    /// <summary>The part of ONNX Runtime's message a person needs: after the source location, one line, bounded.</summary>
    private static string Summarize(string message)
    {
        var line = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? message;
        var marker = line.LastIndexOf("] : ", StringComparison.Ordinal);
        if (marker >= 0)
            line = line[(marker + 4)..];
        return line.Length <= 200 ? line : line[..197] + "...";
    }

    private static void WriteSmokeModel(string path)
    {
        using var writer = new OnnxModelWriter(path, "smoke");
        writer.ImportOpset("", 17);
        writer.AddInput("x", OnnxElementType.Float, 1, 4);
        writer.AddOutput("y", OnnxElementType.Float, 1, 4);
        writer.AddInitializer("w", [4, 4], Enumerable.Repeat(0.5f, 16).ToArray());
        writer.AddInitializer("b", [4], Enumerable.Repeat(1f, 4).ToArray());
        writer.AddNode("MatMul", ["x", "w"], ["xw"]);
        writer.AddNode("Add", ["xw", "b"], ["y"]);
        writer.Save();
    }
}
