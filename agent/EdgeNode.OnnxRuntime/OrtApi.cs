namespace EdgeNode.OnnxRuntime;

/// <summary>
/// The ONNX Runtime C API function table (struct OrtApi in onnxruntime_c_api.h), read once into
/// function pointers. ORT only ever appends to that struct, so a slot index is stable across releases;
/// the indices below are slot positions counted from the header. Every function used here exists in
/// API version <see cref="RequiredVersion"/> (ORT 1.12), which is what gets requested so vendor builds
/// of older releases on boards load too.
/// </summary>
internal static unsafe class OrtApi
{
    /// <summary>The newest slot used is SessionOptionsAppendExecutionProvider, added in API 12.</summary>
    public const uint RequiredVersion = 12;

    private const int SlotGetErrorCode = 1;
    private const int SlotGetErrorMessage = 2;
    private const int SlotCreateEnv = 3;
    private const int SlotCreateSession = 7;
    private const int SlotRun = 9;
    private const int SlotCreateSessionOptions = 10;
    private const int SlotSetSessionExecutionMode = 13;
    private const int SlotEnableCpuMemArena = 18;
    private const int SlotDisableCpuMemArena = 19;
    private const int SlotSetSessionGraphOptimizationLevel = 23;
    private const int SlotSetIntraOpNumThreads = 24;
    private const int SlotSetInterOpNumThreads = 25;
    private const int SlotSessionGetInputCount = 30;
    private const int SlotSessionGetOutputCount = 31;
    private const int SlotSessionGetInputTypeInfo = 33;
    private const int SlotSessionGetOutputTypeInfo = 34;
    private const int SlotSessionGetInputName = 36;
    private const int SlotSessionGetOutputName = 37;
    private const int SlotCreateTensorWithDataAsOrtValue = 49;
    private const int SlotGetTensorMutableData = 51;
    private const int SlotCastTypeInfoToTensorInfo = 55;
    private const int SlotGetTensorElementType = 60;
    private const int SlotGetDimensionsCount = 61;
    private const int SlotGetDimensions = 62;
    private const int SlotGetTensorTypeAndShape = 65;
    private const int SlotCreateCpuMemoryInfo = 69;
    private const int SlotAllocatorFree = 76;
    private const int SlotGetAllocatorWithDefaultOptions = 78;
    private const int SlotReleaseEnv = 92;
    private const int SlotReleaseStatus = 93;
    private const int SlotReleaseMemoryInfo = 94;
    private const int SlotReleaseSession = 95;
    private const int SlotReleaseValue = 96;
    private const int SlotReleaseTypeInfo = 98;
    private const int SlotReleaseTensorTypeAndShapeInfo = 99;
    private const int SlotReleaseSessionOptions = 100;
    private const int SlotGetAvailableProviders = 125;
    private const int SlotReleaseAvailableProviders = 126;
    private const int SlotAddSessionConfigEntry = 130;
    private const int SlotRunWithBinding = 133;
    private const int SlotCreateIoBinding = 134;
    private const int SlotReleaseIoBinding = 135;
    private const int SlotBindInput = 136;
    private const int SlotBindOutput = 137;
    private const int SlotBindOutputToDevice = 138;
    private const int SlotGetBoundOutputValues = 140;
    private const int SlotClearBoundInputs = 141;
    private const int SlotClearBoundOutputs = 142;
    private const int SlotSessionOptionsAppendExecutionProviderTensorRtV2 = 170;
    private const int SlotCreateTensorRtProviderOptions = 171;
    private const int SlotUpdateTensorRtProviderOptions = 172;
    private const int SlotReleaseTensorRtProviderOptions = 174;
    private const int SlotSessionOptionsAppendExecutionProviderCudaV2 = 204;
    private const int SlotCreateCudaProviderOptions = 205;
    private const int SlotUpdateCudaProviderOptions = 206;
    private const int SlotReleaseCudaProviderOptions = 208;
    private const int SlotSessionOptionsAppendExecutionProvider = 216;

    // OrtStatus* is returned as nint: zero means success.
    public static delegate* unmanaged<nint, int> GetErrorCode;
    public static delegate* unmanaged<nint, byte*> GetErrorMessage;
    public static delegate* unmanaged<nint, void> ReleaseStatus;

    public static delegate* unmanaged<int, byte*, nint*, nint> CreateEnv;
    public static delegate* unmanaged<nint, void> ReleaseEnv;

    public static delegate* unmanaged<nint*, nint> CreateSessionOptions;
    public static delegate* unmanaged<nint, int, nint> SetSessionExecutionMode;
    public static delegate* unmanaged<nint, nint> EnableCpuMemArena;
    public static delegate* unmanaged<nint, nint> DisableCpuMemArena;
    public static delegate* unmanaged<nint, int, nint> SetSessionGraphOptimizationLevel;
    public static delegate* unmanaged<nint, int, nint> SetIntraOpNumThreads;
    public static delegate* unmanaged<nint, int, nint> SetInterOpNumThreads;
    public static delegate* unmanaged<nint, byte*, byte*, nint> AddSessionConfigEntry;
    public static delegate* unmanaged<nint, byte*, byte**, byte**, nuint, nint> SessionOptionsAppendExecutionProvider;
    public static delegate* unmanaged<nint, void> ReleaseSessionOptions;

    public static delegate* unmanaged<nint*, nint> CreateCudaProviderOptions;
    public static delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateCudaProviderOptions;
    public static delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProviderCudaV2;
    public static delegate* unmanaged<nint, void> ReleaseCudaProviderOptions;
    public static delegate* unmanaged<nint*, nint> CreateTensorRtProviderOptions;
    public static delegate* unmanaged<nint, byte**, byte**, nuint, nint> UpdateTensorRtProviderOptions;
    public static delegate* unmanaged<nint, nint, nint> SessionOptionsAppendExecutionProviderTensorRtV2;
    public static delegate* unmanaged<nint, void> ReleaseTensorRtProviderOptions;

    public static delegate* unmanaged<nint, byte*, nint, nint*, nint> CreateSession;
    public static delegate* unmanaged<nint, nuint*, nint> SessionGetInputCount;
    public static delegate* unmanaged<nint, nuint*, nint> SessionGetOutputCount;
    public static delegate* unmanaged<nint, nuint, nint*, nint> SessionGetInputTypeInfo;
    public static delegate* unmanaged<nint, nuint, nint*, nint> SessionGetOutputTypeInfo;
    public static delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetInputName;
    public static delegate* unmanaged<nint, nuint, nint, byte**, nint> SessionGetOutputName;
    public static delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint> Run;
    public static delegate* unmanaged<nint, void> ReleaseSession;

    public static delegate* unmanaged<nint, nint*, nint> CastTypeInfoToTensorInfo;
    public static delegate* unmanaged<nint, int*, nint> GetTensorElementType;
    public static delegate* unmanaged<nint, nuint*, nint> GetDimensionsCount;
    public static delegate* unmanaged<nint, long*, nuint, nint> GetDimensions;
    public static delegate* unmanaged<nint, void> ReleaseTypeInfo;
    public static delegate* unmanaged<nint, void> ReleaseTensorTypeAndShapeInfo;

    public static delegate* unmanaged<int, int, nint*, nint> CreateCpuMemoryInfo;
    public static delegate* unmanaged<nint, void> ReleaseMemoryInfo;
    public static delegate* unmanaged<nint*, nint> GetAllocatorWithDefaultOptions;
    public static delegate* unmanaged<nint, void*, nint> AllocatorFree;

    public static delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint> CreateTensorWithDataAsOrtValue;
    public static delegate* unmanaged<nint, void**, nint> GetTensorMutableData;
    public static delegate* unmanaged<nint, nint*, nint> GetTensorTypeAndShape;
    public static delegate* unmanaged<nint, void> ReleaseValue;

    public static delegate* unmanaged<nint, nint*, nint> CreateIoBinding;
    public static delegate* unmanaged<nint, byte*, nint, nint> BindInput;
    public static delegate* unmanaged<nint, byte*, nint, nint> BindOutput;
    public static delegate* unmanaged<nint, byte*, nint, nint> BindOutputToDevice;
    public static delegate* unmanaged<nint, nint, nint**, nuint*, nint> GetBoundOutputValues;
    public static delegate* unmanaged<nint, void> ClearBoundInputs;
    public static delegate* unmanaged<nint, void> ClearBoundOutputs;
    public static delegate* unmanaged<nint, nint, nint, nint> RunWithBinding;
    public static delegate* unmanaged<nint, void> ReleaseIoBinding;

    public static delegate* unmanaged<byte***, int*, nint> GetAvailableProviders;
    public static delegate* unmanaged<byte**, int, nint> ReleaseAvailableProviders;

    /// <summary>Copies the slots used here out of the table that OrtApiBase.GetApi returned.</summary>
    public static void Bind(void** table)
    {
        GetErrorCode = (delegate* unmanaged<nint, int>)table[SlotGetErrorCode];
        GetErrorMessage = (delegate* unmanaged<nint, byte*>)table[SlotGetErrorMessage];
        ReleaseStatus = (delegate* unmanaged<nint, void>)table[SlotReleaseStatus];

        CreateEnv = (delegate* unmanaged<int, byte*, nint*, nint>)table[SlotCreateEnv];
        ReleaseEnv = (delegate* unmanaged<nint, void>)table[SlotReleaseEnv];

        CreateSessionOptions = (delegate* unmanaged<nint*, nint>)table[SlotCreateSessionOptions];
        SetSessionExecutionMode = (delegate* unmanaged<nint, int, nint>)table[SlotSetSessionExecutionMode];
        EnableCpuMemArena = (delegate* unmanaged<nint, nint>)table[SlotEnableCpuMemArena];
        DisableCpuMemArena = (delegate* unmanaged<nint, nint>)table[SlotDisableCpuMemArena];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged<nint, int, nint>)table[SlotSetSessionGraphOptimizationLevel];
        SetIntraOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[SlotSetIntraOpNumThreads];
        SetInterOpNumThreads = (delegate* unmanaged<nint, int, nint>)table[SlotSetInterOpNumThreads];
        AddSessionConfigEntry = (delegate* unmanaged<nint, byte*, byte*, nint>)table[SlotAddSessionConfigEntry];
        SessionOptionsAppendExecutionProvider = (delegate* unmanaged<nint, byte*, byte**, byte**, nuint, nint>)table[SlotSessionOptionsAppendExecutionProvider];
        ReleaseSessionOptions = (delegate* unmanaged<nint, void>)table[SlotReleaseSessionOptions];

        CreateCudaProviderOptions = (delegate* unmanaged<nint*, nint>)table[SlotCreateCudaProviderOptions];
        UpdateCudaProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)table[SlotUpdateCudaProviderOptions];
        SessionOptionsAppendExecutionProviderCudaV2 = (delegate* unmanaged<nint, nint, nint>)table[SlotSessionOptionsAppendExecutionProviderCudaV2];
        ReleaseCudaProviderOptions = (delegate* unmanaged<nint, void>)table[SlotReleaseCudaProviderOptions];
        CreateTensorRtProviderOptions = (delegate* unmanaged<nint*, nint>)table[SlotCreateTensorRtProviderOptions];
        UpdateTensorRtProviderOptions = (delegate* unmanaged<nint, byte**, byte**, nuint, nint>)table[SlotUpdateTensorRtProviderOptions];
        SessionOptionsAppendExecutionProviderTensorRtV2 = (delegate* unmanaged<nint, nint, nint>)table[SlotSessionOptionsAppendExecutionProviderTensorRtV2];
        ReleaseTensorRtProviderOptions = (delegate* unmanaged<nint, void>)table[SlotReleaseTensorRtProviderOptions];

        CreateSession = (delegate* unmanaged<nint, byte*, nint, nint*, nint>)table[SlotCreateSession];
        SessionGetInputCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotSessionGetInputCount];
        SessionGetOutputCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotSessionGetOutputCount];
        SessionGetInputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[SlotSessionGetInputTypeInfo];
        SessionGetOutputTypeInfo = (delegate* unmanaged<nint, nuint, nint*, nint>)table[SlotSessionGetOutputTypeInfo];
        SessionGetInputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)table[SlotSessionGetInputName];
        SessionGetOutputName = (delegate* unmanaged<nint, nuint, nint, byte**, nint>)table[SlotSessionGetOutputName];
        Run = (delegate* unmanaged<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)table[SlotRun];
        ReleaseSession = (delegate* unmanaged<nint, void>)table[SlotReleaseSession];

        CastTypeInfoToTensorInfo = (delegate* unmanaged<nint, nint*, nint>)table[SlotCastTypeInfoToTensorInfo];
        GetTensorElementType = (delegate* unmanaged<nint, int*, nint>)table[SlotGetTensorElementType];
        GetDimensionsCount = (delegate* unmanaged<nint, nuint*, nint>)table[SlotGetDimensionsCount];
        GetDimensions = (delegate* unmanaged<nint, long*, nuint, nint>)table[SlotGetDimensions];
        ReleaseTypeInfo = (delegate* unmanaged<nint, void>)table[SlotReleaseTypeInfo];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged<nint, void>)table[SlotReleaseTensorTypeAndShapeInfo];

        CreateCpuMemoryInfo = (delegate* unmanaged<int, int, nint*, nint>)table[SlotCreateCpuMemoryInfo];
        ReleaseMemoryInfo = (delegate* unmanaged<nint, void>)table[SlotReleaseMemoryInfo];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged<nint*, nint>)table[SlotGetAllocatorWithDefaultOptions];
        AllocatorFree = (delegate* unmanaged<nint, void*, nint>)table[SlotAllocatorFree];

        CreateTensorWithDataAsOrtValue = (delegate* unmanaged<nint, void*, nuint, long*, nuint, int, nint*, nint>)table[SlotCreateTensorWithDataAsOrtValue];
        GetTensorMutableData = (delegate* unmanaged<nint, void**, nint>)table[SlotGetTensorMutableData];
        GetTensorTypeAndShape = (delegate* unmanaged<nint, nint*, nint>)table[SlotGetTensorTypeAndShape];
        ReleaseValue = (delegate* unmanaged<nint, void>)table[SlotReleaseValue];

        CreateIoBinding = (delegate* unmanaged<nint, nint*, nint>)table[SlotCreateIoBinding];
        BindInput = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotBindInput];
        BindOutput = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotBindOutput];
        BindOutputToDevice = (delegate* unmanaged<nint, byte*, nint, nint>)table[SlotBindOutputToDevice];
        GetBoundOutputValues = (delegate* unmanaged<nint, nint, nint**, nuint*, nint>)table[SlotGetBoundOutputValues];
        ClearBoundInputs = (delegate* unmanaged<nint, void>)table[SlotClearBoundInputs];
        ClearBoundOutputs = (delegate* unmanaged<nint, void>)table[SlotClearBoundOutputs];
        RunWithBinding = (delegate* unmanaged<nint, nint, nint, nint>)table[SlotRunWithBinding];
        ReleaseIoBinding = (delegate* unmanaged<nint, void>)table[SlotReleaseIoBinding];

        GetAvailableProviders = (delegate* unmanaged<byte***, int*, nint>)table[SlotGetAvailableProviders];
        ReleaseAvailableProviders = (delegate* unmanaged<byte**, int, nint>)table[SlotReleaseAvailableProviders];
    }

    /// <summary>Throws <see cref="OrtException"/> carrying ORT's code and message when a call failed; always releases the status.</summary>
    public static void Check(nint status)
    {
        if (status != 0)
            ThrowFromStatus(status);
    }

    private static void ThrowFromStatus(nint status)
    {
        var code = (OrtErrorCode)GetErrorCode(status);
        var message = Utf8.ToString(GetErrorMessage(status));
        ReleaseStatus(status);
        throw new OrtException(code, message);
    }

    /// <summary>Turns a failed status into a reason string instead of throwing (for optional features).</summary>
    public static string? TakeFailure(nint status)
    {
        if (status == 0)
            return null;
        var message = Utf8.ToString(GetErrorMessage(status));
        ReleaseStatus(status);
        return message;
    }
}
