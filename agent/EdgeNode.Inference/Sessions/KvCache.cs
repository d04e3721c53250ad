using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.OnnxRuntime;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// The key/value cache of one conversation for layers [FirstLayer, EndLayer) of a model. Each layer's keys and
/// values live in one native buffer [1, kv_heads, allocated, head_size] that is bound as both past and present of
/// GroupQueryAttention, so a step writes its new positions in place and nothing is copied per token.
/// <para>
/// The buffers start small and grow as the conversation does, up to <see cref="Capacity"/> (the context): a model
/// whose context is 128K positions would otherwise take gigabytes before its first token. Growth doubles the
/// allocation and copies the filled positions once, so its cost is amortised over the tokens that filled them;
/// sessions bound to the old buffers see <see cref="Generation"/> change and rebind. Truncating only moves
/// <see cref="Length"/>: positions past it are overwritten by the next run.
/// </para>
/// <para>
/// Budgets count <see cref="Bytes"/>, the memory at full capacity, so a conversation admitted under a budget can
/// always reach its context; <see cref="AllocatedBytes"/> is what is held now. Disposing unbinds the cache from every
/// session that had it bound, so no session keeps tensors over freed memory.
/// </para>
/// <para>
/// Elements are float32 or float16 (<see cref="Precision"/>), as the slice's graph declares its past/present tensors;
/// a float16 cache takes half the bytes per position.
/// </para>
/// </summary>
public sealed class KvCache : IDisposable
{
    /// <summary>Positions allocated up front: a short chat never grows, a long one doubles a handful of times.</summary>
    public const int InitialPositions = 256;

    private readonly int _kvHeads;
    private readonly int _headSize;
    // NativeBuffer<float> or NativeBuffer<Half>, as Precision says.
    private readonly IDisposable?[] _keys;
    private readonly IDisposable?[] _values;
    private readonly OrtValue?[] _keyValues;
    private readonly OrtValue?[] _valueValues;
    private readonly List<SliceSession> _boundTo = [];
    private readonly object _gate = new();
    private int _length;
    private bool _disposed;

    /// <param name="capacity">Positions the cache may hold (the conversation's context): 1..the model's context length.</param>
    /// <param name="initialPositions">Positions to allocate now (at most <paramref name="capacity"/>); 0 = <see cref="InitialPositions"/>.</param>
    /// <param name="precision">Element type: the one the slice's past_key/past_value inputs take.</param>
    public KvCache(LlamaConfig config, int firstLayer, int endLayer, int capacity, int initialPositions = 0, KvPrecision precision = KvPrecision.Fp32)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (capacity <= 0 || capacity > config.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"cache capacity must be 1..{config.MaxSeqLen} (the model's context length)");
        if (firstLayer < 0 || endLayer <= firstLayer || endLayer > config.Layers)
            throw new ArgumentOutOfRangeException(nameof(endLayer), $"layers [{firstLayer},{endLayer}) are not a range of the model's {config.Layers}");
        ArgumentOutOfRangeException.ThrowIfNegative(initialPositions);
        FirstLayer = firstLayer;
        EndLayer = endLayer;
        Capacity = capacity;
        Precision = precision;
        _kvHeads = config.KvHeads;
        _headSize = AttentionLayout.CacheHeadSize(config);
        var layers = endLayer - firstLayer;
        _keys = new IDisposable?[layers];
        _values = new IDisposable?[layers];
        _keyValues = new OrtValue?[layers];
        _valueValues = new OrtValue?[layers];
        BytesPerPosition = BytesPerPositionOf(config, layers, precision);
        Bytes = BytesPerPosition * capacity;
        Allocate(Math.Min(capacity, initialPositions > 0 ? initialPositions : InitialPositions), copyLength: 0);
    }

    /// <summary>Native bytes one position takes in <paramref name="layers"/> layers: keys and values, heads as the kernel stores them.</summary>
    public static long BytesPerPositionOf(LlamaConfig config, int layers, KvPrecision precision)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Models.Recipes.ContextBudget.KvBytesPerPositionOf(layers, config.KvHeads, config.HeadSize, precision);
    }

    public int FirstLayer { get; }
    public int EndLayer { get; }

    /// <summary>Element type of the keys and values.</summary>
    public KvPrecision Precision { get; }

    /// <summary>Positions this cache may hold: the conversation's context.</summary>
    public int Capacity { get; }

    /// <summary>Positions the buffers hold now; grows toward <see cref="Capacity"/>.</summary>
    public int AllocatedPositions { get; private set; }

    /// <summary>Positions filled so far.</summary>
    public int Length => _length;

    public long BytesPerPosition { get; }

    /// <summary>Native memory at full <see cref="Capacity"/>: what a memory budget reserves for this cache.</summary>
    public long Bytes { get; }

    /// <summary>Native memory held now (0 once disposed).</summary>
    public long AllocatedBytes => _disposed ? 0 : BytesPerPosition * AllocatedPositions;

    /// <summary>Changes whenever the buffers are replaced: a session bound to an older generation rebinds.</summary>
    public int Generation { get; private set; }

    public bool IsDisposed => _disposed;

    public OrtValue Keys(int layer) => _keyValues[layer - FirstLayer] ?? throw new ObjectDisposedException(nameof(KvCache));
    public OrtValue Values(int layer) => _valueValues[layer - FirstLayer] ?? throw new ObjectDisposedException(nameof(KvCache));

    /// <summary>Forgets every position from <paramref name="length"/> on (rejected draft tokens, a replay after failover, a failed run).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > _length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"can only truncate to 0..{_length}");
        _length = length;
    }

    /// <summary>
    /// Makes room for <paramref name="positions"/> positions in all: nothing when they are already allocated, else the
    /// allocation doubles (or jumps to what is needed) up to <see cref="Capacity"/>, and the filled positions are copied
    /// once. Throws <see cref="ContextFullException"/> past the capacity.
    /// </summary>
    public void EnsureAllocated(int positions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (positions <= AllocatedPositions)
            return;
        if (positions > Capacity)
            throw new ContextFullException(Capacity, _length, positions - _length);
        var grown = (int)Math.Min(Capacity, Math.Max((long)positions, 2L * AllocatedPositions));
        Allocate(grown, _length);
    }

    /// <summary>Called by the slice after a run that appended <paramref name="positions"/> positions.</summary>
    internal void Advance(int positions) => _length += positions;

    /// <summary>A session bound this cache's buffers; it is told to unbind when the cache goes away.</summary>
    internal void AddBinding(SliceSession session)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_boundTo.Contains(session))
                _boundTo.Add(session);
        }
    }

    internal void RemoveBinding(SliceSession session)
    {
        lock (_gate) _boundTo.Remove(session);
    }

    /// <summary>Sessions that hold this cache bound (for tests of the unbinding).</summary>
    internal int BindingCount
    {
        get { lock (_gate) return _boundTo.Count; }
    }

    private void Allocate(int positions, int copyLength)
    {
        long[] shape = [1, _kvHeads, positions, _headSize];
        var elements = (long)_kvHeads * positions * _headSize;
        for (var i = 0; i < _keys.Length; i++)
        {
            // The tensors only point into the buffers: they go before the buffers are replaced.
            _keyValues[i]?.Dispose();
            _valueValues[i]?.Dispose();
            if (Precision == KvPrecision.Fp16)
            {
                (_keys[i], _keyValues[i]) = Replace((NativeBuffer<Half>?)_keys[i], elements, copyLength, positions, shape);
                (_values[i], _valueValues[i]) = Replace((NativeBuffer<Half>?)_values[i], elements, copyLength, positions, shape);
            }
            else
            {
                (_keys[i], _keyValues[i]) = Replace((NativeBuffer<float>?)_keys[i], elements, copyLength, positions, shape);
                (_values[i], _valueValues[i]) = Replace((NativeBuffer<float>?)_values[i], elements, copyLength, positions, shape);
            }
        }
        AllocatedPositions = positions;
        Generation++;
    }

    /// <summary>
    /// A buffer for <paramref name="positions"/> positions per head holding the first <paramref name="copyLength"/> of
    /// <paramref name="old"/>, and the tensor over it.
    /// </summary>
    private (NativeBuffer<T> Buffer, OrtValue Tensor) Replace<T>(NativeBuffer<T>? old, long elements, int copyLength, int positions, long[] shape)
        where T : unmanaged
    {
        var buffer = new NativeBuffer<T>(elements);
        if (old is not null)
        {
            // BNSH: each head's positions are contiguous, so a head's filled rows move as one block to its new stride.
            var oldStride = (long)AllocatedPositions * _headSize;
            var newStride = (long)positions * _headSize;
            var rowElements = copyLength * _headSize;
            for (var h = 0; h < _kvHeads; h++)
                old.Slice(h * oldStride, rowElements).CopyTo(buffer.Slice(h * newStride, rowElements));
            old.Dispose();
        }
        return (buffer, NativeTensor.Over(buffer, shape));
    }

    public void Dispose()
    {
        SliceSession[] sessions;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            sessions = [.. _boundTo];
            _boundTo.Clear();
        }
        // Sessions drop their bindings before the memory under them is freed.
        foreach (var session in sessions)
            session.Unbind(this);
        // The tensors only point into the buffers: they go first.
        for (var i = 0; i < _keys.Length; i++)
        {
            _keyValues[i]?.Dispose();
            _valueValues[i]?.Dispose();
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keyValues[i] = _valueValues[i] = null;
            _keys[i] = _values[i] = null;
        }
    }
}
