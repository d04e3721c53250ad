using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.OnnxRuntime;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// The key/value cache of one conversation for layers [FirstLayer, EndLayer) of a model. Each layer's
/// keys and values live in one preallocated native buffer [1, kv_heads, capacity, head_size] that is
/// bound as both past and present of GroupQueryAttention, so a step writes its new positions in place
/// and nothing is copied per token. Truncating only moves <see cref="Length"/>: positions past it are
/// overwritten by the next run.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly NativeBuffer<float>[] _keys;
    private readonly NativeBuffer<float>[] _values;
    private readonly OrtValue[] _keyValues;
    private readonly OrtValue[] _valueValues;
    private int _length;

    public KvCache(LlamaConfig config, int firstLayer, int endLayer, int capacity)
    {
        if (capacity <= 0 || capacity > config.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"cache capacity must be 1..{config.MaxSeqLen} (the model's context length)");
        FirstLayer = firstLayer;
        EndLayer = endLayer;
        Capacity = capacity;
        var layers = endLayer - firstLayer;
        var headSize = AttentionLayout.CacheHeadSize(config);
        long[] shape = [1, config.KvHeads, capacity, headSize];
        var elements = (long)config.KvHeads * capacity * headSize;
        _keys = new NativeBuffer<float>[layers];
        _values = new NativeBuffer<float>[layers];
        _keyValues = new OrtValue[layers];
        _valueValues = new OrtValue[layers];
        for (var i = 0; i < layers; i++)
        {
            _keys[i] = new NativeBuffer<float>(elements);
            _values[i] = new NativeBuffer<float>(elements);
            _keyValues[i] = NativeTensor.Over(_keys[i], shape);
            _valueValues[i] = NativeTensor.Over(_values[i], shape);
        }
        Bytes = 2L * layers * elements * sizeof(float);
    }

    public int FirstLayer { get; }
    public int EndLayer { get; }

    /// <summary>Positions this cache can hold.</summary>
    public int Capacity { get; }

    /// <summary>Positions filled so far.</summary>
    public int Length => _length;

    /// <summary>Native memory held by this cache.</summary>
    public long Bytes { get; }

    public OrtValue Keys(int layer) => _keyValues[layer - FirstLayer];
    public OrtValue Values(int layer) => _valueValues[layer - FirstLayer];

    /// <summary>Forgets every position from <paramref name="length"/> on (rejected draft tokens, a replay after failover).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > _length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"can only truncate to 0..{_length}");
        _length = length;
    }

    /// <summary>Called by the slice after a run that appended <paramref name="positions"/> positions.</summary>
    internal void Advance(int positions) => _length += positions;

    public void Dispose()
    {
        // The tensors only point into the buffers: they go first.
        for (var i = 0; i < _keys.Length; i++)
        {
            _keyValues[i].Dispose();
            _valueValues[i].Dispose();
            _keys[i].Dispose();
            _values[i].Dispose();
        }
    }
}
