namespace EdgeNode.OnnxRuntime;

/// <summary>How an execution provider is attached to session options in the C API.</summary>
internal enum ExecutionProviderRoute
{
    /// <summary>The CPU provider: always there, always last.</summary>
    Builtin,
    /// <summary>OrtApi.SessionOptionsAppendExecutionProvider with the provider's registration name and string options.</summary>
    ByName,
    /// <summary>OrtCUDAProviderOptionsV2: create, update with string options, append, release.</summary>
    CudaV2,
    /// <summary>OrtTensorRTProviderOptionsV2, same shape as CUDA.</summary>
    TensorRtV2,
    /// <summary>An exported OrtSessionOptionsAppendExecutionProvider_X(options, int device_id).</summary>
    ExportWithDeviceId,
    /// <summary>An exported OrtSessionOptionsAppendExecutionProvider_X(options, uint32 flags).</summary>
    ExportWithFlags,
}

/// <summary>
/// One execution provider EdgeNode knows: the short name used in configuration, the name ORT lists it under
/// in GetAvailableProviders, and how to append it.
/// </summary>
internal sealed record ExecutionProvider(string ShortName, string OrtName, ExecutionProviderRoute Route, string? Entry = null)
{
    public static readonly IReadOnlyList<ExecutionProvider> Known =
    [
        new("cpu", "CPUExecutionProvider", ExecutionProviderRoute.Builtin),
        new("xnnpack", "XnnpackExecutionProvider", ExecutionProviderRoute.ByName, "XNNPACK"),
        new("cuda", "CUDAExecutionProvider", ExecutionProviderRoute.CudaV2),
        new("tensorrt", "TensorrtExecutionProvider", ExecutionProviderRoute.TensorRtV2),
        new("openvino", "OpenVINOExecutionProvider", ExecutionProviderRoute.ByName, "OpenVINO"),
        new("qnn", "QNNExecutionProvider", ExecutionProviderRoute.ByName, "QNN"),
        new("nnapi", "NnapiExecutionProvider", ExecutionProviderRoute.ExportWithFlags, "OrtSessionOptionsAppendExecutionProvider_Nnapi"),
        new("coreml", "CoreMLExecutionProvider", ExecutionProviderRoute.ExportWithFlags, "OrtSessionOptionsAppendExecutionProvider_CoreML"),
        new("dml", "DmlExecutionProvider", ExecutionProviderRoute.ExportWithDeviceId, "OrtSessionOptionsAppendExecutionProvider_DML"),
        new("rocm", "ROCMExecutionProvider", ExecutionProviderRoute.ExportWithDeviceId, "OrtSessionOptionsAppendExecutionProvider_ROCM"),
        new("migraphx", "MIGraphXExecutionProvider", ExecutionProviderRoute.ExportWithDeviceId, "OrtSessionOptionsAppendExecutionProvider_MIGraphX"),
        new("snpe", "SNPEExecutionProvider", ExecutionProviderRoute.ByName, "SNPE"),
        new("webgpu", "WebGpuExecutionProvider", ExecutionProviderRoute.ByName, "WebGPU"),
    ];

    public static string KnownNames { get; } = string.Join(", ", Known.Select(p => p.ShortName));

    public static ExecutionProvider Find(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var provider in Known)
        {
            if (string.Equals(provider.ShortName, name, StringComparison.OrdinalIgnoreCase))
                return provider;
        }
        throw new ArgumentException($"unknown execution provider '{name}'; known: {KnownNames}", nameof(name));
    }
}
