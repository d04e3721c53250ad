using System.Runtime.InteropServices;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// An ORT tensor. Tensors created here wrap caller memory without copying; tensors returned by a run own
/// ORT-allocated memory. Type, shape and data pointer are read once and cached, since they never change
/// for a tensor and are read on every decode step.
/// </summary>
public sealed unsafe class OrtValue : IDisposable
{
    private readonly OrtHandle _handle;
    private void* _data;
    private bool _described;
    private OrtElementType _elementType;
    private long[] _shape = [];
    private long _elementCount;

    private OrtValue(OrtHandle handle) => _handle = handle;

    public OrtElementType ElementType
    {
        get
        {
            Describe();
            return _elementType;
        }
    }

    public long ElementCount
    {
        get
        {
            Describe();
            return _elementCount;
        }
    }

    internal OrtHandle Handle => _handle;

    /// <summary>A tensor of <paramref name="shape"/> over the start of <paramref name="buffer"/>; the buffer may be larger than the shape needs.</summary>
    public static OrtValue CreateTensor<T>(NativeBuffer<T> buffer, ReadOnlySpan<long> shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var count = CountElements(shape);
        if (count > buffer.Length)
            throw new ArgumentException($"shape [{string.Join(",", shape.ToArray())}] needs {count} elements; the buffer has {buffer.Length}", nameof(shape));
        return Create(buffer.Pointer, count * sizeof(T), shape, ElementTypeOf<T>(), buffer.Memory);
    }

    /// <summary>A tensor over caller memory, which must stay valid and unmoved until the tensor is disposed.</summary>
    public static OrtValue CreateTensor(void* data, long byteLength, ReadOnlySpan<long> shape, OrtElementType type)
    {
        if (data is null)
            throw new ArgumentNullException(nameof(data));
        var needed = CountElements(shape) * ElementSize(type);
        if (byteLength < needed)
            throw new ArgumentException($"shape [{string.Join(",", shape.ToArray())}] of {type} needs {needed} bytes; {byteLength} given", nameof(byteLength));
        return Create(data, byteLength, shape, type, memoryOwner: null);
    }

    /// <summary>Takes ownership of a value ORT returned.</summary>
    internal static OrtValue FromOwned(nint value) => new(new OrtHandle(value, OrtApi.ReleaseValue));

    /// <summary>The elements; <typeparamref name="T"/> must have the element's size (Half or ushort for Float16).</summary>
    public Span<T> GetData<T>() where T : unmanaged
    {
        Describe();
        if (sizeof(T) != ElementSize(_elementType))
            throw new InvalidOperationException($"tensor holds {_elementType}; {typeof(T).Name} has a different size");
        if (_elementCount > int.MaxValue)
            throw new InvalidOperationException($"tensor of {_elementCount} elements is longer than a Span");
        if (_data is null && _elementCount > 0)
        {
            void* data;
            OrtApi.Check(OrtApi.GetTensorMutableData(_handle.Value, &data));
            _data = data;
        }
        return new Span<T>(_data, (int)_elementCount);
    }

    public long[] GetShape()
    {
        Describe();
        return (long[])_shape.Clone();
    }

    public void Dispose() => _handle.Dispose();

    internal static int ElementSize(OrtElementType type) => (int)type switch
    {
        1 => 4,            // float
        2 or 3 or 9 => 1,  // uint8, int8, bool
        4 or 5 or 10 or 16 => 2, // uint16, int16, float16, bfloat16
        6 or 12 => 4,      // int32, uint32
        7 or 11 or 13 => 8, // int64, double, uint64
        _ => throw new NotSupportedException($"element type {type} has no fixed size"),
    };

    private static OrtElementType ElementTypeOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return OrtElementType.Float;
        if (typeof(T) == typeof(byte)) return OrtElementType.UInt8;
        if (typeof(T) == typeof(sbyte)) return OrtElementType.Int8;
        if (typeof(T) == typeof(int)) return OrtElementType.Int32;
        if (typeof(T) == typeof(long)) return OrtElementType.Int64;
        // ushort carries float16 bit patterns where Half arithmetic is not wanted.
        if (typeof(T) == typeof(Half) || typeof(T) == typeof(ushort)) return OrtElementType.Float16;
        throw new NotSupportedException($"no ORT element type for {typeof(T).Name}");
    }

    private static long CountElements(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException("tensor dimensions must not be negative", nameof(shape));
            count = checked(count * dim);
        }
        return count;
    }

    private static OrtValue Create(void* data, long byteLength, ReadOnlySpan<long> shape, OrtElementType type, SafeHandle? memoryOwner)
    {
        var runtime = OrtRuntime.Current;
        nint value;
        fixed (long* dims = shape)
            OrtApi.Check(OrtApi.CreateTensorWithDataAsOrtValue(runtime.CpuMemoryInfo, data, (nuint)byteLength, dims, (nuint)shape.Length, (int)type, &value));
        var tensor = new OrtValue(new OrtHandle(value, OrtApi.ReleaseValue, memoryOwner))
        {
            _data = data,
            _described = true,
            _elementType = type,
            _shape = shape.ToArray(),
            _elementCount = CountElements(shape),
        };
        return tensor;
    }

    private void Describe()
    {
        if (_described)
            return;
        nint info;
        OrtApi.Check(OrtApi.GetTensorTypeAndShape(_handle.Value, &info));
        try
        {
            int type;
            OrtApi.Check(OrtApi.GetTensorElementType(info, &type));
            nuint rank;
            OrtApi.Check(OrtApi.GetDimensionsCount(info, &rank));
            var shape = new long[(int)rank];
            fixed (long* dims = shape)
                OrtApi.Check(OrtApi.GetDimensions(info, dims, rank));
            _elementType = (OrtElementType)type;
            _shape = shape;
            _elementCount = CountElements(shape);
            _described = true;
        }
        finally
        {
            OrtApi.ReleaseTensorTypeAndShapeInfo(info);
        }
    }
}
