using EdgeNode.OnnxRuntime;

namespace EdgeNode.OnnxRuntime.Tests;

/// <summary>One runtime and environment for the whole test run, as in the agent.</summary>
internal static class SharedOrt
{
    private static readonly Lazy<OrtEnvironment> s_environment = new(() => new OrtEnvironment(OrtRuntime.Load(), OrtLogLevel.Error, "tests"));

    public static OrtRuntime Runtime => Environment.Runtime;

    public static OrtEnvironment Environment => s_environment.Value;

    public static OrtSession Open(string modelPath, Action<OrtSessionOptions>? configure = null)
    {
        using var options = new OrtSessionOptions(Runtime) { IntraOpThreads = 1 };
        configure?.Invoke(options);
        return new OrtSession(Environment, modelPath, options);
    }
}
