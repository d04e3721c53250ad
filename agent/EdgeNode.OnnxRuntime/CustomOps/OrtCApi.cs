using System.Runtime.InteropServices;
using System.Text;

namespace EdgeNode.OnnxRuntime.CustomOps;

/// <summary>
/// The entries of ONNX Runtime's C API (the OrtApi function table) that registering and running a custom operator needs
/// and the managed API does not wrap. Each is a slot number in the table, fixed by ONNX Runtime's ABI: entries are only
/// ever appended, so a slot keeps its meaning in every later release.
/// </summary>
internal static unsafe class OrtCApi
{
    /// <summary>The table version asked for: 16 has every entry used here (KernelContext_ParallelFor came with it).</summary>
    private const uint RequestedVersion = 16;

    private const int CreateStatusSlot = 0;
    private const int GetErrorMessageSlot = 2;
    private const int CreateCustomOpDomainSlot = 26;
    private const int CustomOpDomainAddSlot = 27;
    private const int AddCustomOpDomainSlot = 28;
    private const int GetTensorMutableDataSlot = 51;
    private const int GetDimensionsCountSlot = 61;
    private const int GetDimensionsSlot = 62;
    private const int GetTensorTypeAndShapeSlot = 65;
    private const int KernelInfoGetAttributeInt64Slot = 86;
    private const int KernelContextGetInputSlot = 90;
    private const int KernelContextGetOutputSlot = 91;
    private const int ReleaseStatusSlot = 93;
    private const int ReleaseTensorTypeAndShapeInfoSlot = 99;
    private const int KernelContextParallelForSlot = 274;

    /// <summary>ORT_FAIL in OrtErrorCode.</summary>
    private const int ErrorCodeFail = 1;

    private static readonly nint* s_table = OpenTable();

    private static nint* OpenTable()
    {
        var (path, handle) = OrtRuntime.Library;
        var getApiBase = (delegate* unmanaged<nint*>)NativeLibrary.GetExport(handle, "OrtGetApiBase");
        // OrtApiBase is { GetApi(version), GetVersionString() }.
        var getApi = (delegate* unmanaged<uint, nint*>)getApiBase()[0];
        var table = getApi(RequestedVersion);
        if (table is null)
            throw new OrtLibraryException($"ONNX Runtime at '{path}' does not offer C API version {RequestedVersion}");
        return table;
    }

    private static nint Slot(int index) => s_table[index];

    /// <summary>A status ORT turns into the error of the run that called the kernel.</summary>
    public static nint Fail(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message + "\0");
        fixed (byte* text = bytes)
            return ((delegate* unmanaged<int, byte*, nint>)Slot(CreateStatusSlot))(ErrorCodeFail, text);
    }

    /// <summary>Throws with ORT's message (and releases the status) when a call failed.</summary>
    public static void Check(nint status)
    {
        if (status == 0)
            return;
        var message = Marshal.PtrToStringUTF8(((delegate* unmanaged<nint, nint>)Slot(GetErrorMessageSlot))(status));
        ((delegate* unmanaged<nint, void>)Slot(ReleaseStatusSlot))(status);
        throw new OrtLibraryException($"ONNX Runtime: {message}");
    }

    public static nint CreateCustomOpDomain(string domain)
    {
        var bytes = Encoding.UTF8.GetBytes(domain + "\0");
        nint created;
        fixed (byte* name = bytes)
            Check(((delegate* unmanaged<byte*, nint*, nint>)Slot(CreateCustomOpDomainSlot))(name, &created));
        return created;
    }

    public static void CustomOpDomainAdd(nint domain, void* op) =>
        Check(((delegate* unmanaged<nint, void*, nint>)Slot(CustomOpDomainAddSlot))(domain, op));

    public static void AddCustomOpDomain(nint sessionOptions, nint domain) =>
        Check(((delegate* unmanaged<nint, nint, nint>)Slot(AddCustomOpDomainSlot))(sessionOptions, domain));

    public static long KernelInfoGetAttributeInt64(nint info, ReadOnlySpan<byte> nullTerminatedName)
    {
        long value;
        fixed (byte* name = nullTerminatedName)
            Check(((delegate* unmanaged<nint, byte*, long*, nint>)Slot(KernelInfoGetAttributeInt64Slot))(info, name, &value));
        return value;
    }

    public static nint KernelContextGetInput(nint context, int index)
    {
        nint value;
        Check(((delegate* unmanaged<nint, nuint, nint*, nint>)Slot(KernelContextGetInputSlot))(context, (nuint)index, &value));
        return value;
    }

    public static nint KernelContextGetOutput(nint context, int index, ReadOnlySpan<long> shape)
    {
        nint value;
        fixed (long* dims = shape)
            Check(((delegate* unmanaged<nint, nuint, long*, nuint, nint*, nint>)Slot(KernelContextGetOutputSlot))(context, (nuint)index, dims, (nuint)shape.Length, &value));
        return value;
    }

    public static void* GetTensorData(nint value)
    {
        void* data;
        Check(((delegate* unmanaged<nint, void**, nint>)Slot(GetTensorMutableDataSlot))(value, &data));
        return data;
    }

    /// <summary>The tensor's shape into <paramref name="shape"/>; returns the rank (a larger rank than the span holds is an error).</summary>
    public static int GetShape(nint value, Span<long> shape)
    {
        nint info;
        Check(((delegate* unmanaged<nint, nint*, nint>)Slot(GetTensorTypeAndShapeSlot))(value, &info));
        try
        {
            nuint rank;
            Check(((delegate* unmanaged<nint, nuint*, nint>)Slot(GetDimensionsCountSlot))(info, &rank));
            if (rank > (nuint)shape.Length)
                throw new OrtLibraryException($"a tensor of rank {rank}; the kernel takes at most {shape.Length}");
            fixed (long* dims = shape)
                Check(((delegate* unmanaged<nint, long*, nuint, nint>)Slot(GetDimensionsSlot))(info, dims, rank));
            return (int)rank;
        }
        finally
        {
            ((delegate* unmanaged<nint, void>)Slot(ReleaseTensorTypeAndShapeInfoSlot))(info);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/>(<paramref name="state"/>, i) for i in [0, <paramref name="count"/>) on the session's
    /// intra-op threads (the calling thread takes part) and returns when all are done.
    /// </summary>
    public static void ParallelFor(nint context, delegate* unmanaged<void*, nuint, void> work, int count, void* state) =>
        Check(((delegate* unmanaged<nint, delegate* unmanaged<void*, nuint, void>, nuint, nuint, void*, nint>)Slot(KernelContextParallelForSlot))(
            context, work, (nuint)count, (nuint)count, state));
}
