using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.OnnxRuntime;

/// <summary>How an execution provider is attached to session options through the managed API.</summary>
internal enum ExecutionProviderRoute
{
    /// <summary>The CPU provider: always there, always last.</summary>
    Builtin,
    /// <summary>SessionOptions.AppendExecutionProvider(registration name, string options).</summary>
    ByName,
    /// <summary>OrtCUDAProviderOptions updated with the string options.</summary>
    Cuda,
    /// <summary>OrtTensorRTProviderOptions updated with the string options.</summary>
    TensorRt,
    /// <summary>A provider appended with an integer device_id option.</summary>
    DeviceId,
    /// <summary>NNAPI, appended with an integer flags option.</summary>
    NnapiFlags,
}

/// <summary>
/// One execution provider EdgeNode knows: the short name used in configuration, the name ORT lists it under,
/// and how to append it. CPU is always the last provider (ORT adds it itself), so an accelerator that cannot
/// be appended just means those nodes run on CPU — and the reason is reported, never swallowed.
/// </summary>
public sealed record ExecutionProvider
{
    private ExecutionProvider(string shortName, string ortName, ExecutionProviderRoute route, string? entry = null)
    {
        ShortName = shortName;
        OrtName = ortName;
        Route = route;
        Entry = entry;
    }

    public string ShortName { get; }

    /// <summary>The name ORT lists the provider under in GetAvailableProviders.</summary>
    public string OrtName { get; }

    internal ExecutionProviderRoute Route { get; }

    internal string? Entry { get; }

    public static IReadOnlyList<ExecutionProvider> Known { get; } =
    [
        new("cpu", "CPUExecutionProvider", ExecutionProviderRoute.Builtin),
        new("xnnpack", "XnnpackExecutionProvider", ExecutionProviderRoute.ByName, "XNNPACK"),
        new("cuda", "CUDAExecutionProvider", ExecutionProviderRoute.Cuda),
        new("tensorrt", "TensorrtExecutionProvider", ExecutionProviderRoute.TensorRt),
        new("openvino", "OpenVINOExecutionProvider", ExecutionProviderRoute.ByName, "OpenVINO"),
        new("qnn", "QNNExecutionProvider", ExecutionProviderRoute.ByName, "QNN"),
        new("nnapi", "NnapiExecutionProvider", ExecutionProviderRoute.NnapiFlags),
        new("coreml", "CoreMLExecutionProvider", ExecutionProviderRoute.ByName, "CoreML"),
        new("dml", "DmlExecutionProvider", ExecutionProviderRoute.DeviceId, "dml"),
        new("rocm", "ROCMExecutionProvider", ExecutionProviderRoute.DeviceId, "rocm"),
        new("migraphx", "MIGraphXExecutionProvider", ExecutionProviderRoute.DeviceId, "migraphx"),
        new("snpe", "SNPEExecutionProvider", ExecutionProviderRoute.ByName, "SNPE"),
        new("webgpu", "WebGpuExecutionProvider", ExecutionProviderRoute.ByName, "WebGPU"),
    ];

    public static string KnownNames { get; } = string.Join(", ", Known.Select(p => p.ShortName));

    /// <summary>The provider of a short name (case-insensitive); an unknown name is a configuration mistake.</summary>
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

    /// <summary>
    /// Appends this provider to <paramref name="options"/>. Returns null on success, or why it was not appended:
    /// the provider is missing from this ORT build, or ORT refused it (a missing driver, a bad option).
    /// </summary>
    public string? TryAppend(SessionOptions options, OrtRuntime runtime, IReadOnlyDictionary<string, string>? providerOptions)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runtime);
        if (Route == ExecutionProviderRoute.Builtin)
            return null;
        if (!runtime.AvailableProviders.Contains(OrtName))
            return $"{ShortName} ({OrtName}): not in this ONNX Runtime build ({runtime.Version}, {runtime.LibraryPath}; it has {string.Join(", ", runtime.AvailableProviders)})";
        try
        {
            Append(options, providerOptions);
            return null;
        }
        catch (OnnxRuntimeException e)
        {
            return $"{ShortName} ({OrtName}): {OrtErrors.Summarize(e.Message)}";
        }
        catch (EntryPointNotFoundException e)
        {
            return $"{ShortName} ({OrtName}): this ONNX Runtime build lacks its entry point ({e.Message})";
        }
    }

    private void Append(SessionOptions options, IReadOnlyDictionary<string, string>? providerOptions)
    {
        var strings = providerOptions is null ? new Dictionary<string, string>() : new Dictionary<string, string>(providerOptions);
        switch (Route)
        {
            case ExecutionProviderRoute.ByName:
                options.AppendExecutionProvider(Entry!, strings);
                break;
            case ExecutionProviderRoute.Cuda:
            {
                // The session options copy what they need; the provider options are released either way.
                using var cuda = new OrtCUDAProviderOptions();
                cuda.UpdateOptions(strings);
                options.AppendExecutionProvider_CUDA(cuda);
                break;
            }
            case ExecutionProviderRoute.TensorRt:
            {
                using var tensorRt = new OrtTensorRTProviderOptions();
                tensorRt.UpdateOptions(strings);
                options.AppendExecutionProvider_Tensorrt(tensorRt);
                break;
            }
            case ExecutionProviderRoute.DeviceId:
            {
                var deviceId = (int)ReadInteger(strings, "device_id");
                switch (Entry)
                {
                    case "dml": options.AppendExecutionProvider_DML(deviceId); break;
                    case "rocm": options.AppendExecutionProvider_ROCm(deviceId); break;
                    default: options.AppendExecutionProvider_MIGraphX(deviceId); break;
                }
                break;
            }
            case ExecutionProviderRoute.NnapiFlags:
                options.AppendExecutionProvider_Nnapi((NnapiFlags)ReadInteger(strings, "flags"));
                break;
        }
    }

    private static long ReadInteger(Dictionary<string, string> options, string key)
    {
        if (!options.TryGetValue(key, out var text))
            return 0;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"execution provider option '{key}' must be an integer, got '{text}'");
    }
}
