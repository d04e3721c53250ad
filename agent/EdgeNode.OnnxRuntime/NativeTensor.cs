using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeNode.OnnxRuntime;

/// <summary>ORT tensors over <see cref="NativeBuffer{T}"/> memory, which ORT then reads and writes in place.</summary>
public static unsafe class NativeTensor
{
    /// <summary>
    /// A tensor of <paramref name="shape"/> over the start of <paramref name="buffer"/> (which may be larger).
    /// The tensor does not own the memory: dispose it before the buffer.
    /// </summary>
    public static OrtValue Over<T>(NativeBuffer<T> buffer, params long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException("tensor dimensions must not be negative", nameof(shape));
            count = checked(count * dim);
        }
        if (count > buffer.Length)
            throw new ArgumentException($"shape [{string.Join(",", shape)}] needs {count} elements; the buffer has {buffer.Length}", nameof(shape));
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ElementTypeOf<T>(), shape, (nint)buffer.Pointer, count * sizeof(T));
    }

    private static TensorElementType ElementTypeOf<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return TensorElementType.Float;
        if (typeof(T) == typeof(byte)) return TensorElementType.UInt8;
        if (typeof(T) == typeof(sbyte)) return TensorElementType.Int8;
        if (typeof(T) == typeof(int)) return TensorElementType.Int32;
        if (typeof(T) == typeof(long)) return TensorElementType.Int64;
        // ushort carries float16 bit patterns where Half arithmetic is not wanted.
        if (typeof(T) == typeof(Half) || typeof(T) == typeof(ushort)) return TensorElementType.Float16;
        throw new NotSupportedException($"no ONNX Runtime element type for {typeof(T).Name}");
    }
}
