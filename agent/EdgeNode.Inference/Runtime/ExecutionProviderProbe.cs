using EdgeNode.Models.Onnx;
using EdgeNode.OnnxRuntime;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.Inference.Runtime;

/// <summary>One execution provider and whether it really ran a model here.</summary>
public sealed record ExecutionProviderStatus(string Name, bool Listed, bool Runs, string Detail);

/// <summary>
/// Finds the execution providers that actually run, not just the ones the library lists: each
/// candidate gets a session over a small smoke model (MatMul + Add) and one run whose result is checked.
/// </summary>
public static class ExecutionProviderProbe
{
    public static IReadOnlyList<ExecutionProviderStatus> Probe(OrtRuntime runtime)
    {
        var listed = runtime.AvailableProviders;
        var folder = Path.Combine(Path.GetTempPath(), $"edgenode-ep-probe-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            var modelPath = Path.Combine(folder, "smoke.onnx");
            WriteSmokeModel(modelPath);
            var results = new List<ExecutionProviderStatus>();
            foreach (var provider in ExecutionProvider.Known)
            {
                var isListed = listed.Contains(provider.OrtName);
                if (!isListed && provider.ShortName != "cpu")
                    continue;
                results.Add(TryRun(runtime, modelPath, provider, isListed));
            }
            return results;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static ExecutionProviderStatus TryRun(OrtRuntime runtime, string modelPath, ExecutionProvider provider, bool listed)
    {
        var ep = provider.ShortName;
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1 };
            if (provider.TryAppend(options, runtime, null) is { } reason)
                return new ExecutionProviderStatus(ep, listed, false, OrtErrors.Summarize(reason));
            using var session = new InferenceSession(modelPath, options);
            using var runOptions = new RunOptions();
            using var input = OrtValue.CreateTensorValueFromMemory(new[] { 1f, 1f, 1f, 1f }, [1, 4]);
            using var outputs = session.Run(runOptions, ["x"], [input], ["y"]);
            var y = outputs[0].GetTensorDataAsSpan<float>();
            // x·W + b with W = 0.5 everywhere and b = 1: every output is 3.
            var ok = y.Length == 4 && y.ToArray().All(v => Math.Abs(v - 3f) < 1e-6f);
            return new ExecutionProviderStatus(ep, listed, ok, ok ? "ran the smoke model" : "ran, but gave a wrong result");
        }
        catch (OnnxRuntimeException e)
        {
            return new ExecutionProviderStatus(ep, listed, false, OrtErrors.Summarize(e.Message));
        }
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
