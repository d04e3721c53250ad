using System.Globalization;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// Session options: threads, optimization level, execution mode, memory arena, config entries and the
/// execution provider list in preference order. CPU is always the last provider (ORT adds it itself), so an
/// accelerator that cannot be appended just means those nodes run on CPU.
/// </summary>
public sealed unsafe class OrtSessionOptions : IDisposable
{
    // ExecutionMode values.
    private const int Sequential = 0;
    private const int Parallel = 1;

    private readonly List<string> _providers = [];
    private readonly List<string> _providerFailures = [];
    private int _intraOpThreads;
    private int _interOpThreads;
    private GraphOptimizationLevel _optimizationLevel = GraphOptimizationLevel.All;
    private bool _parallelExecution;
    private bool _cpuMemoryArena = true;

    public OrtSessionOptions(OrtRuntime? runtime = null)
    {
        Runtime = runtime ?? OrtRuntime.Current;
        nint options;
        OrtApi.Check(OrtApi.CreateSessionOptions(&options));
        Handle = new OrtHandle(options, OrtApi.ReleaseSessionOptions);
    }

    public OrtRuntime Runtime { get; }

    /// <summary>Threads inside one operator (0 = ORT's default). Match it to the big cores on big.LITTLE boards.</summary>
    public int IntraOpThreads
    {
        get => _intraOpThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            OrtApi.Check(OrtApi.SetIntraOpNumThreads(Handle.Value, value));
            _intraOpThreads = value;
        }
    }

    /// <summary>Threads running independent operators at once; only used with <see cref="ParallelExecution"/>.</summary>
    public int InterOpThreads
    {
        get => _interOpThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            OrtApi.Check(OrtApi.SetInterOpNumThreads(Handle.Value, value));
            _interOpThreads = value;
        }
    }

    public GraphOptimizationLevel OptimizationLevel
    {
        get => _optimizationLevel;
        set
        {
            OrtApi.Check(OrtApi.SetSessionGraphOptimizationLevel(Handle.Value, (int)value));
            _optimizationLevel = value;
        }
    }

    public bool ParallelExecution
    {
        get => _parallelExecution;
        set
        {
            OrtApi.Check(OrtApi.SetSessionExecutionMode(Handle.Value, value ? Parallel : Sequential));
            _parallelExecution = value;
        }
    }

    public bool CpuMemoryArena
    {
        get => _cpuMemoryArena;
        set
        {
            OrtApi.Check(value ? OrtApi.EnableCpuMemArena(Handle.Value) : OrtApi.DisableCpuMemArena(Handle.Value));
            _cpuMemoryArena = value;
        }
    }

    /// <summary>Providers appended so far, in preference order (short names); "cpu" is implied last.</summary>
    public IReadOnlyList<string> ExecutionProviders => _providers;

    /// <summary>Why requested providers were not appended, one line each.</summary>
    public IReadOnlyList<string> ExecutionProviderFailures => _providerFailures;

    internal OrtHandle Handle { get; }

    /// <summary>A session config entry (keys from onnxruntime_session_options_config_keys.h).</summary>
    public void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        fixed (byte* k = Utf8.ToPinnedNullTerminated(key))
        fixed (byte* v = Utf8.ToPinnedNullTerminated(value))
            OrtApi.Check(OrtApi.AddSessionConfigEntry(Handle.Value, k, v));
    }

    /// <summary>
    /// Appends an execution provider by short name (cpu, xnnpack, cuda, tensorrt, openvino, qnn, nnapi, coreml,
    /// dml, rocm, migraphx, snpe, webgpu; case-insensitive). An unknown name is a configuration mistake and throws;
    /// a known provider missing from this ORT build, or one ORT refuses, returns false with the reason.
    /// </summary>
    public bool TryAppendExecutionProvider(string name, IReadOnlyDictionary<string, string>? options, out string? failureReason)
    {
        var provider = ExecutionProvider.Find(name);
        failureReason = provider.Route == ExecutionProviderRoute.Builtin ? null : Append(provider, options);
        if (failureReason is null)
        {
            if (provider.Route != ExecutionProviderRoute.Builtin)
                _providers.Add(provider.ShortName);
            return true;
        }
        failureReason = $"{provider.ShortName} ({provider.OrtName}): {failureReason}";
        _providerFailures.Add(failureReason);
        return false;
    }

    public void Dispose() => Handle.Dispose();

    private string? Append(ExecutionProvider provider, IReadOnlyDictionary<string, string>? options)
    {
        var available = Runtime.AvailableProviders;
        if (!available.Contains(provider.OrtName))
            return $"{provider.OrtName} is not in this ONNX Runtime build ({Runtime.Version}, {Runtime.LibraryPath}; it has {string.Join(", ", available)})";

        var keys = new byte[options?.Count ?? 0][];
        var values = new byte[keys.Length][];
        if (options is not null)
        {
            var i = 0;
            foreach (var (key, value) in options)
            {
                keys[i] = Utf8.ToPinnedNullTerminated(key);
                values[i] = Utf8.ToPinnedNullTerminated(value);
                i++;
            }
        }
        var keyPointers = stackalloc byte*[Math.Max(1, keys.Length)];
        var valuePointers = stackalloc byte*[Math.Max(1, keys.Length)];
        for (var i = 0; i < keys.Length; i++)
        {
            keyPointers[i] = Utf8.PointerOf(keys[i]);
            valuePointers[i] = Utf8.PointerOf(values[i]);
        }
        var count = (nuint)keys.Length;
        var sessionOptions = Handle.Value;

        string? failure;
        switch (provider.Route)
        {
            case ExecutionProviderRoute.ByName:
                fixed (byte* providerName = Utf8.ToPinnedNullTerminated(provider.Entry!))
                    failure = OrtApi.TakeFailure(OrtApi.SessionOptionsAppendExecutionProvider(sessionOptions, providerName, keyPointers, valuePointers, count));
                break;

            case ExecutionProviderRoute.CudaV2:
            {
                nint cuda;
                failure = OrtApi.TakeFailure(OrtApi.CreateCudaProviderOptions(&cuda));
                if (failure is not null)
                    break;
                failure = OrtApi.TakeFailure(OrtApi.UpdateCudaProviderOptions(cuda, keyPointers, valuePointers, count))
                    ?? OrtApi.TakeFailure(OrtApi.SessionOptionsAppendExecutionProviderCudaV2(sessionOptions, cuda));
                // The session options copy what they need; the V2 struct is released either way.
                OrtApi.ReleaseCudaProviderOptions(cuda);
                break;
            }

            case ExecutionProviderRoute.TensorRtV2:
            {
                nint tensorRt;
                failure = OrtApi.TakeFailure(OrtApi.CreateTensorRtProviderOptions(&tensorRt));
                if (failure is not null)
                    break;
                failure = OrtApi.TakeFailure(OrtApi.UpdateTensorRtProviderOptions(tensorRt, keyPointers, valuePointers, count))
                    ?? OrtApi.TakeFailure(OrtApi.SessionOptionsAppendExecutionProviderTensorRtV2(sessionOptions, tensorRt));
                OrtApi.ReleaseTensorRtProviderOptions(tensorRt);
                break;
            }

            case ExecutionProviderRoute.ExportWithDeviceId:
            {
                if (!Runtime.TryGetExport(provider.Entry!, out var entry))
                    return $"this ONNX Runtime build does not export {provider.Entry}";
                var deviceId = ReadIntegerOption(options, "device_id");
                failure = OrtApi.TakeFailure(((delegate* unmanaged<nint, int, nint>)entry)(sessionOptions, (int)deviceId));
                break;
            }

            case ExecutionProviderRoute.ExportWithFlags:
            {
                if (!Runtime.TryGetExport(provider.Entry!, out var entry))
                    return $"this ONNX Runtime build does not export {provider.Entry}";
                var flags = ReadIntegerOption(options, "flags");
                failure = OrtApi.TakeFailure(((delegate* unmanaged<nint, uint, nint>)entry)(sessionOptions, (uint)flags));
                break;
            }

            default:
                failure = null;
                break;
        }
        GC.KeepAlive(keys);
        GC.KeepAlive(values);
        return failure;
    }

    private static long ReadIntegerOption(IReadOnlyDictionary<string, string>? options, string key)
    {
        if (options is null || !options.TryGetValue(key, out var text))
            return 0;
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"execution provider option '{key}' must be an integer, got '{text}'", nameof(options));
    }
}
