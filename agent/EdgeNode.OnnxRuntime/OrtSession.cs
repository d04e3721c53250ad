
namespace EdgeNode.OnnxRuntime;

/// <summary>
/// A loaded model. Input and output names are encoded once here, so running with names or binding by name
/// does not allocate per call. External data beside the model is resolved (and memory-mapped) by ORT.
/// </summary>
public sealed unsafe class OrtSession : IDisposable
{
    private const int StackNameLimit = 256;

    private readonly Dictionary<string, Utf8Name> _names = new(StringComparer.Ordinal);

    public OrtSession(OrtEnvironment env, string modelPath, OrtSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        Runtime = env.Runtime;
        ModelPath = modelPath;

        nint session;
        // ORTCHAR_T is wchar_t on Windows and UTF-8 char elsewhere.
        if (OperatingSystem.IsWindows())
        {
            fixed (char* path = modelPath)
                OrtApi.Check(OrtApi.CreateSession(env.Handle.Value, (byte*)path, options.Handle.Value, &session));
        }
        else
        {
            fixed (byte* path = Utf8.ToPinnedNullTerminated(modelPath))
                OrtApi.Check(OrtApi.CreateSession(env.Handle.Value, path, options.Handle.Value, &session));
        }
        Handle = new OrtHandle(session, OrtApi.ReleaseSession, env.Handle);

        try
        {
            Inputs = Describe(input: true);
            Outputs = Describe(input: false);
        }
        catch
        {
            Handle.Dispose();
            throw;
        }
        foreach (var info in Inputs.Concat(Outputs))
            _names.TryAdd(info.Name, new Utf8Name(info.Name));
    }

    public OrtRuntime Runtime { get; }

    public string ModelPath { get; }

    public IReadOnlyList<OrtTensorInfo> Inputs { get; }

    public IReadOnlyList<OrtTensorInfo> Outputs { get; }

    internal OrtHandle Handle { get; }

    /// <summary>Runs with inputs and outputs bound in <paramref name="binding"/>; no allocation on this path.</summary>
    public void Run(OrtIoBinding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        OrtApi.Check(OrtApi.RunWithBinding(Handle.Value, 0, binding.Handle.Value));
        GC.KeepAlive(binding);
    }

    /// <summary>Runs and returns new output tensors (owned by the caller) in the order of <paramref name="outputNames"/>.</summary>
    public OrtValue[] Run(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, IReadOnlyList<string> outputNames)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (inputNames.Count != inputs.Count)
            throw new ArgumentException($"{inputNames.Count} input names but {inputs.Count} inputs", nameof(inputs));

        var total = inputNames.Count * 2 + outputNames.Count * 2;
        var pointers = total <= StackNameLimit ? stackalloc nint[StackNameLimit] : new nint[total];
        pointers = pointers[..total];
        pointers.Clear();
        // Laid out as: input names | input values | output names | output values.
        var inputNameSlots = pointers[..inputNames.Count];
        var inputValueSlots = pointers.Slice(inputNames.Count, inputNames.Count);
        var outputNameSlots = pointers.Slice(inputNames.Count * 2, outputNames.Count);
        var outputValueSlots = pointers.Slice(inputNames.Count * 2 + outputNames.Count, outputNames.Count);

        List<Utf8Name>? unknownNames = null;
        for (var i = 0; i < inputNames.Count; i++)
        {
            inputNameSlots[i] = (nint)NameOf(inputNames[i], ref unknownNames).Pointer;
            inputValueSlots[i] = (inputs[i] ?? throw new ArgumentException($"input {i} is null", nameof(inputs))).Handle.Value;
        }
        for (var i = 0; i < outputNames.Count; i++)
            outputNameSlots[i] = (nint)NameOf(outputNames[i], ref unknownNames).Pointer;

        fixed (nint* inNames = inputNameSlots)
        fixed (nint* inValues = inputValueSlots)
        fixed (nint* outNames = outputNameSlots)
        fixed (nint* outValues = outputValueSlots)
        {
            OrtApi.Check(OrtApi.Run(Handle.Value, 0, (byte**)inNames, inValues, (nuint)inputNames.Count, (byte**)outNames, (nuint)outputNames.Count, outValues));
        }
        GC.KeepAlive(inputs);
        GC.KeepAlive(unknownNames);

        var outputs = new OrtValue[outputNames.Count];
        for (var i = 0; i < outputs.Length; i++)
            outputs[i] = OrtValue.FromOwned(outputValueSlots[i]);
        return outputs;
    }

    /// <summary>Releases the session; IoBindings still open keep the native session until they are disposed.</summary>
    public void Dispose() => Handle.Dispose();

    /// <summary>The cached encoding of a model name, or a one-off encoding for a name the model lacks (ORT then reports it).</summary>
    internal Utf8Name NameOf(string name, ref List<Utf8Name>? unknownNames)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_names.TryGetValue(name, out var cached))
            return cached;
        var unknown = new Utf8Name(name);
        (unknownNames ??= []).Add(unknown);
        return unknown;
    }

    private OrtTensorInfo[] Describe(bool input)
    {
        var session = Handle.Value;
        nuint count;
        OrtApi.Check(input ? OrtApi.SessionGetInputCount(session, &count) : OrtApi.SessionGetOutputCount(session, &count));
        var allocator = Runtime.DefaultAllocator;
        var infos = new OrtTensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* namePointer;
            OrtApi.Check(input
                ? OrtApi.SessionGetInputName(session, i, allocator, &namePointer)
                : OrtApi.SessionGetOutputName(session, i, allocator, &namePointer));
            var name = Utf8.ToString(namePointer);
            OrtApi.Check(OrtApi.AllocatorFree(allocator, namePointer));

            nint typeInfo;
            OrtApi.Check(input
                ? OrtApi.SessionGetInputTypeInfo(session, i, &typeInfo)
                : OrtApi.SessionGetOutputTypeInfo(session, i, &typeInfo));
            try
            {
                nint tensorInfo;
                OrtApi.Check(OrtApi.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
                if (tensorInfo == 0)
                {
                    // Sequences and maps: not used by EdgeNode models, reported without a tensor type.
                    infos[(int)i] = new OrtTensorInfo(name, OrtElementType.Undefined, []);
                    continue;
                }
                int type;
                OrtApi.Check(OrtApi.GetTensorElementType(tensorInfo, &type));
                nuint rank;
                OrtApi.Check(OrtApi.GetDimensionsCount(tensorInfo, &rank));
                var dims = new long[(int)rank];
                fixed (long* d = dims)
                    OrtApi.Check(OrtApi.GetDimensions(tensorInfo, d, rank));
                infos[(int)i] = new OrtTensorInfo(name, (OrtElementType)type, dims);
            }
            finally
            {
                OrtApi.ReleaseTypeInfo(typeInfo);
            }
        }
        return infos;
    }
}
