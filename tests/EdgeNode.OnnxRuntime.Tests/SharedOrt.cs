using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.OnnxRuntime.Tests;

/// <summary>One runtime for the whole test run, as in the agent.</summary>
internal static class SharedOrt
{
    public static OrtRuntime Runtime => OrtRuntime.Load();

    public static InferenceSession Open(string modelPath, Action<SessionOptions>? configure = null)
    {
        _ = Runtime;
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        configure?.Invoke(options);
        return new InferenceSession(modelPath, options);
    }

    /// <summary>Runs with named inputs and returns the outputs, which the caller disposes.</summary>
    public static IDisposableReadOnlyCollection<OrtValue> Run(InferenceSession session, string[] inputNames, OrtValue[] inputs, string[] outputNames)
    {
        using var runOptions = new RunOptions();
        return session.Run(runOptions, inputNames, inputs, outputNames);
    }
}
