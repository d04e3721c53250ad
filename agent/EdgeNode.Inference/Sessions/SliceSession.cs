using EdgeNode.Inference.Runtime;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.OnnxRuntime;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// One ONNX Runtime session over one slice of a model (embed, layers [a,b), head, or any contiguous
/// combination). A call runs any number of new positions at once: a whole prompt, one decode step, or
/// k+1 positions to verify k draft tokens. The KV cache is passed per call, so one session serves many
/// conversations. Inputs and outputs live in native buffers bound once through IoBinding and rebound
/// only when the number of positions or the cache (or its allocation) changes: a decode step allocates nothing.
/// <para>
/// Threading: one run at a time per session. The input, output and binding are the session's own, so a second
/// run started while one is in progress (from another thread) is refused with an
/// <see cref="InvalidOperationException"/> instead of overwriting the first one's buffers; callers that share a
/// session across threads take turns. The span a run returns stays valid until the session's next run. Any thread
/// may dispose a cache: the cache unbinds itself from this session first (waiting for a run in progress to end).
/// </para>
/// </summary>
public sealed class SliceSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly LlamaConfig _config;
    private readonly NativeBuffer<int> _seqLensK = new(1);
    private readonly NativeBuffer<int> _totalLength = new(1);
    private readonly OrtValue? _seqLensKValue;
    private readonly OrtValue? _totalLengthValue;
    private NativeBuffer<long>? _ids;
    private NativeBuffer<float>? _hidden;
    private NativeBuffer<float>? _output;
    private OrtValue? _inputValue;
    private OrtValue? _outputValue;
    private int _boundPositions = -1;
    private KvCache? _boundCache;
    private int _boundGeneration;
    // 1 while a run is in progress: overlapping runs are refused, not queued.
    private int _running;
    // Guards the binding against a cache unbinding itself from another thread.
    private readonly object _bindingGate = new();

    /// <param name="threads">
    /// Intra-op threads of a slice with layers (0: one per physical core); null: the runtime's
    /// <see cref="InferenceOptions.Threads"/>. A slice without layers always runs on one.
    /// </param>
    public SliceSession(InferenceRuntime runtime, string onnxPath, SliceSpec spec, LlamaConfig config, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        Spec = spec;
        _config = config;
        OnnxPath = onnxPath;
        // A slice without layers runs on the caller's thread whatever the count (InferenceRuntime.CreateSessionOptions).
        Threads = spec.HasLayers ? threads ?? runtime.Options.Threads : 1;
        _session = runtime.CreateSession(onnxPath, Threads);
        _binding = _session.CreateIoBinding();
        if (spec.HasLayers)
        {
            // The graph says what its cache holds; caches made for this slice follow it.
            KvPrecision = _session.InputMetadata[SliceTensorNames.PastKey(spec.FirstLayer)].ElementDataType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16
                ? KvPrecision.Fp16
                : KvPrecision.Fp32;
            _seqLensKValue = NativeTensor.Over(_seqLensK, 1);
            _totalLengthValue = NativeTensor.Over(_totalLength);
            BindSequenceLengths();
        }
    }

    public SliceSpec Spec { get; }

    /// <summary>The file the session was opened from (a re-open at another thread count reads it again).</summary>
    public string OnnxPath { get; }

    /// <summary>The intra-op threads ONNX Runtime fixed for this session when it was created (0: one per physical core; 1 without layers).</summary>
    public int Threads { get; }

    /// <summary>Element type of this slice's KV cache (past_key/past_value), read from the graph; fp32 for a slice without layers.</summary>
    public KvPrecision KvPrecision { get; }

    /// <summary>Floats per position in the output: vocab size for a slice with the head, else dim.</summary>
    public int OutputWidth => Spec.Head ? _config.VocabSize : _config.Dim;

    /// <summary>A cache for this slice's layers that may hold <paramref name="capacity"/> positions (allocated as they fill).</summary>
    public KvCache CreateCache(int capacity) => new(_config, Spec.FirstLayer, Spec.EndLayer, capacity, precision: KvPrecision);

    /// <summary>Runs token ids through a slice that starts with the embedding.</summary>
    public ReadOnlySpan<float> RunTokens(ReadOnlySpan<int> tokens, KvCache? cache)
    {
        if (!Spec.Embed)
            throw new InvalidOperationException("this slice takes hidden states, not token ids");
        var positions = tokens.Length;
        for (var i = 0; i < positions; i++)
        {
            if ((uint)tokens[i] >= (uint)_config.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[i], $"token id outside the vocabulary 0..{_config.VocabSize - 1}");
        }
        Enter();
        try
        {
            lock (_bindingGate)
            {
                PrepareBuffers(positions);
                var ids = _ids!.Span;
                for (var i = 0; i < positions; i++)
                    ids[i] = tokens[i];
                return Execute(positions, cache);
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <summary>Runs hidden states [positions][dim] through a slice that does not start with the embedding.</summary>
    public ReadOnlySpan<float> RunHidden(ReadOnlySpan<float> hidden, KvCache? cache)
    {
        if (Spec.Embed)
            throw new InvalidOperationException("this slice takes token ids, not hidden states");
        if (hidden.Length == 0 || hidden.Length % _config.Dim != 0)
            throw new ArgumentException($"hidden states must be whole rows of {_config.Dim} floats, got {hidden.Length}", nameof(hidden));
        var positions = hidden.Length / _config.Dim;
        Enter();
        try
        {
            lock (_bindingGate)
            {
                PrepareBuffers(positions);
                hidden.CopyTo(_hidden!.Span);
                return Execute(positions, cache);
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    private void Enter()
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException(
                $"slice {Spec.FileName} is already running: a session runs one call at a time; run conversations on it in turn (or open one session per thread)");
    }

    /// <summary>Drops the binding of <paramref name="cache"/>'s buffers; called by the cache when it is disposed.</summary>
    internal void Unbind(KvCache cache)
    {
        lock (_bindingGate)
        {
            if (!ReferenceEquals(cache, _boundCache))
                return;
            // IoBinding has no per-name unbind: clear everything and bind what stays (the input and output are
            // rebound on the next run).
            _binding.ClearBoundInputs();
            _binding.ClearBoundOutputs();
            BindSequenceLengths();
            _boundCache = null;
            _boundPositions = -1;
        }
    }

    private void BindSequenceLengths()
    {
        if (_seqLensKValue is null || _totalLengthValue is null)
            return;
        _binding.BindInput(SliceTensorNames.SeqLensK, _seqLensKValue);
        _binding.BindInput(SliceTensorNames.TotalSequenceLength, _totalLengthValue);
    }

    private ReadOnlySpan<float> Execute(int positions, KvCache? cache)
    {
        if (Spec.HasLayers)
        {
            if (cache is null)
                throw new ArgumentNullException(nameof(cache), "a slice with layers needs a KV cache");
            ObjectDisposedException.ThrowIf(cache.IsDisposed, cache);
            if (cache.FirstLayer != Spec.FirstLayer || cache.EndLayer != Spec.EndLayer)
                throw new ArgumentException($"cache holds layers [{cache.FirstLayer},{cache.EndLayer}) but this slice runs [{Spec.FirstLayer},{Spec.EndLayer})", nameof(cache));
            if (cache.Precision != KvPrecision)
                throw new ArgumentException($"cache holds {cache.Precision.ToName()} keys and values but slice {Spec.FileName} takes {KvPrecision.ToName()}; make the cache with CreateCache", nameof(cache));
            var total = cache.Length + positions;
            if (total > cache.Capacity)
                throw new ContextFullException(cache.Capacity, cache.Length, positions);
            cache.EnsureAllocated(total);
            _seqLensK.Span[0] = total - 1;
            _totalLength.Span[0] = total;
            if (!ReferenceEquals(cache, _boundCache) || cache.Generation != _boundGeneration)
            {
                if (!ReferenceEquals(cache, _boundCache))
                {
                    cache.AddBinding(this);
                    _boundCache?.RemoveBinding(this);
                }
                // Set before binding: if binding fails halfway, the next run binds again.
                _boundCache = cache;
                _boundGeneration = cache.Generation - 1;
                for (var layer = Spec.FirstLayer; layer < Spec.EndLayer; layer++)
                {
                    _binding.BindInput(SliceTensorNames.PastKey(layer), cache.Keys(layer));
                    _binding.BindInput(SliceTensorNames.PastValue(layer), cache.Values(layer));
                    _binding.BindOutput(SliceTensorNames.PresentKey(layer), cache.Keys(layer));
                    _binding.BindOutput(SliceTensorNames.PresentValue(layer), cache.Values(layer));
                }
                _boundGeneration = cache.Generation;
            }
        }
        _session.RunWithBinding(_runOptions, _binding);
        cache?.Advance(positions);
        return _output!.Span[..(positions * OutputWidth)];
    }

    /// <summary>Sizes the native buffers for <paramref name="positions"/> and rebinds when the shape changed.</summary>
    private void PrepareBuffers(int positions)
    {
        if (positions <= 0)
            throw new ArgumentOutOfRangeException(nameof(positions), positions, "a run needs at least one position");
        if (positions == _boundPositions)
            return;
        var capacity = _output is null ? 0 : (int)(_output.Length / OutputWidth);
        if (positions > capacity)
        {
            // Grow to a power of two so a prompt of slowly increasing length does not reallocate each time.
            var rows = (int)Math.Max(1, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)positions));
            _output?.Dispose();
            _output = new NativeBuffer<float>((long)rows * OutputWidth);
            if (Spec.Embed)
            {
                _ids?.Dispose();
                _ids = new NativeBuffer<long>(rows);
            }
            else
            {
                _hidden?.Dispose();
                _hidden = new NativeBuffer<float>((long)rows * _config.Dim);
            }
        }
        _inputValue?.Dispose();
        _outputValue?.Dispose();
        if (Spec.Embed)
        {
            _inputValue = NativeTensor.Over(_ids!, 1, positions);
            _binding.BindInput(SliceTensorNames.InputIds, _inputValue);
        }
        else
        {
            _inputValue = NativeTensor.Over(_hidden!, 1, positions, _config.Dim);
            _binding.BindInput(SliceTensorNames.HiddenIn, _inputValue);
        }
        _outputValue = NativeTensor.Over(_output!, 1, positions, OutputWidth);
        _binding.BindOutput(Spec.Head ? SliceTensorNames.Logits : SliceTensorNames.HiddenOut, _outputValue);
        _boundPositions = positions;
    }

    public void Dispose()
    {
        lock (_bindingGate)
        {
            _boundCache?.RemoveBinding(this);
            _boundCache = null;
        }
        _binding.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        _inputValue?.Dispose();
        _outputValue?.Dispose();
        _seqLensKValue?.Dispose();
        _totalLengthValue?.Dispose();
        _ids?.Dispose();
        _hidden?.Dispose();
        _output?.Dispose();
        _seqLensK.Dispose();
        _totalLength.Dispose();
    }
}

/// <summary>A run would go past the KV cache's capacity (the context length).</summary>
public sealed class ContextFullException(int capacity, int length, int positions)
    : Exception($"context full: {length} positions in the cache + {positions} new > capacity {capacity}; start a new conversation or raise --context")
{
    public int Capacity { get; } = capacity;
}
