namespace EdgeNode.OnnxRuntime;

/// <summary>
/// Zeroed native memory aligned to 64 bytes, for tensors ORT reads and writes in place (inputs, bound outputs,
/// KV caches). A tensor made over it by <see cref="NativeTensor.Over{T}"/> does not own it: whoever holds both
/// disposes the tensor first.
/// </summary>
public sealed unsafe class NativeBuffer<T> : IDisposable where T : unmanaged
{
    public const int Alignment = 64;

    private readonly NativeMemoryHandle _memory;
    private volatile bool _disposed;

    public NativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        ByteLength = checked(length * sizeof(T));
        _memory = new NativeMemoryHandle((nuint)ByteLength, Alignment);
    }

    /// <summary>Element count.</summary>
    public long Length { get; }

    public long ByteLength { get; }

    public T* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (T*)_memory.DangerousGetHandle();
        }
    }

    /// <summary>The whole buffer; buffers longer than int.MaxValue elements are reached through <see cref="Slice"/>.</summary>
    public Span<T> Span => Length <= int.MaxValue
        ? new Span<T>(Pointer, (int)Length)
        : throw new InvalidOperationException($"buffer of {Length} elements is longer than a Span; use Slice(offset, length)");

    public Span<T> Slice(long offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (offset > Length - length)
            throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset + length}) is outside the buffer of {Length} elements");
        return new Span<T>(Pointer + offset, length);
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        _disposed = true;
        _memory.Dispose();
    }
}
