namespace EdgeNode.OnnxRuntime;

/// <summary>The ORT environment (logging and the process-wide state sessions are created in).</summary>
public sealed unsafe class OrtEnvironment : IDisposable
{
    public OrtEnvironment(OrtRuntime runtime, OrtLogLevel level = OrtLogLevel.Warning, string logId = "edgenode")
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(logId);
        Runtime = runtime;
        nint env;
        fixed (byte* id = Utf8.ToPinnedNullTerminated(logId))
            OrtApi.Check(OrtApi.CreateEnv((int)level, id, &env));
        Handle = new OrtHandle(env, OrtApi.ReleaseEnv);
    }

    public OrtRuntime Runtime { get; }

    internal OrtHandle Handle { get; }

    /// <summary>Sessions created in this environment keep it alive until they are disposed too.</summary>
    public void Dispose() => Handle.Dispose();
}
