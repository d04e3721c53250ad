using EdgeNode.Inference.Runtime;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// A converted model folder run whole in this process (local solo): the embed slice, its layer slices
/// in order and the head slice, with hidden states handed from one to the next in memory.
/// <para>
/// Threading: any number of conversations (<see cref="ConversationState"/>), one <see cref="Forward"/> at a time.
/// The slices' buffers are shared by every conversation and the logits a call returns live in the head slice's
/// output until the next call, so a call that overlaps another (from another thread) is refused with an
/// <see cref="InvalidOperationException"/>; a server takes turns (or loads one model per worker).
/// A call that fails partway through the chain rolls every cache of the conversation back to the length it had
/// before the call, so the conversation stays consistent and can go on or be retried.
/// </para>
/// </summary>
public sealed class LocalModel : IDisposable
{
    // The embed slice, the layer slices in order, then the head slice.
    private readonly SliceSessionGroup _sessions;
    private readonly int _layerCount;
    // 1 while a Forward (or a thread change) is in progress: overlapping calls are refused, not queued.
    private int _running;

    private LocalModel(string folder, ModelManifest manifest, LlamaConfig config, ITextTokenizer tokenizer, SliceSessionGroup sessions)
    {
        Folder = folder;
        Manifest = manifest;
        Config = config;
        Tokenizer = tokenizer;
        _sessions = sessions;
        _layerCount = sessions.Count - 2;
    }

    private SliceSession Embed => _sessions[0];
    private SliceSession Layer(int i) => _sessions[1 + i];
    private SliceSession Head => _sessions[_layerCount + 1];

    public string Folder { get; }
    public ModelManifest Manifest { get; }
    public LlamaConfig Config { get; }
    public ITextTokenizer Tokenizer { get; }

    /// <summary>The intra-op threads the model's sessions run with (0: one per physical core).</summary>
    public int Threads => _sessions.Threads;

    /// <summary>False after a thread change that could open the sessions at neither count: load the model again.</summary>
    public bool IsLoaded => _sessions.IsLoaded;

    /// <summary>
    /// Re-opens the model's sessions from the same files with <paramref name="threads"/> intra-op threads (the device
    /// governor's step), the old ones closed first so the weights are never held twice. Conversations keep their
    /// caches and go on with the same logits. Refused while a <see cref="Forward"/> runs: call it between requests.
    /// </summary>
    /// <exception cref="InvalidOperationException">A forward pass is running.</exception>
    /// <exception cref="SliceReopenException">The sessions could not be opened at <paramref name="threads"/>; <see cref="IsLoaded"/> says whether they run at the old count.</exception>
    public void ChangeThreads(int threads)
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException($"{Folder} is running a step: change its threads between requests");
        try
        {
            _sessions.ChangeThreads(threads);
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    /// <param name="firstLayers">
    /// When given, only the model's first layers run (the embedding, the layer slices up to that layer, then the head):
    /// the target's own early-exit copy, a draft that needs no second model. The folder must have a slice boundary there.
    /// </param>
    /// <param name="threads">Intra-op threads of its sessions; null: the runtime's.</param>
    public static LocalModel Load(InferenceRuntime runtime, string folder, string? tokenizerPath = null, int? firstLayers = null, int? threads = null)
    {
        var manifest = ModelManifest.Load(folder);
        var config = manifest.ToLlamaConfig();
        if (firstLayers is { } k && (k < 1 || k > config.Layers))
            throw new ArgumentOutOfRangeException(nameof(firstLayers), $"{folder}: the first {k} layers are not 1..{config.Layers}");
        var tokenizer = TextTokenizerLoader.Load(tokenizerPath ?? Path.Combine(folder, manifest.Tokenizer), config.VocabSize);
        var embedSlice = manifest.Slices.Find(s => s.Embed && !s.Head && s.EndLayer == 0)
            ?? throw new ModelFormatException($"{folder}: manifest has no embed slice");
        var headSlice = manifest.Slices.Find(s => s.Head && !s.Embed && s.FirstLayer == config.Layers)
            ?? throw new ModelFormatException($"{folder}: manifest has no head slice");
        var layerSlices = manifest.Slices.Where(s => !s.Embed && !s.Head).OrderBy(s => s.FirstLayer).ToList();
        var next = 0;
        foreach (var s in layerSlices)
        {
            if (s.FirstLayer != next)
                throw new ModelFormatException($"{folder}: layer slices leave a gap or overlap at layer {next} (next slice starts at {s.FirstLayer})");
            next = s.EndLayer;
        }
        if (next != config.Layers)
            throw new ModelFormatException($"{folder}: layer slices end at layer {next}, the model has {config.Layers}");
        if (firstLayers is { } first)
        {
            if (!layerSlices.Any(s => s.EndLayer == first))
                throw new ModelFormatException($"{folder}: no layer slice ends at layer {first} (slices end at {string.Join(", ", layerSlices.Select(s => s.EndLayer))}); "
                    + $"convert it with --layers 0:{first},{first}:{config.Layers} to run its first {first} layers alone");
            layerSlices.RemoveAll(s => s.FirstLayer >= first);
        }

        var files = new List<(string Path, SliceSpec Spec)>();
        ManifestSlice[] ordered = [embedSlice, .. layerSlices, headSlice];
        foreach (var slice in ordered)
        {
            var path = Path.Combine(folder, slice.File);
            if (!File.Exists(path))
                throw new ModelFormatException($"{folder}: slice file {slice.File} named in the manifest is missing; convert the model again");
            files.Add((path, slice.ToSpec()));
        }
        var sessions = SliceSessionGroup.Open(runtime, files, config, threads);
        try
        {
            for (var i = 0; i < sessions.Count; i++)
            {
                var session = sessions[i];
                // Budgets count the manifest's precision: a slice that disagrees would hold other bytes than they reserve.
                if (session.Spec.HasLayers && session.KvPrecision != manifest.KvPrecision)
                    throw new ModelFormatException(
                        $"{folder}: slice {Path.GetFileName(session.OnnxPath)} keeps a {session.KvPrecision.ToName()} KV cache but the manifest says {manifest.KvPrecision.ToName()}; convert the model again");
            }
            return new LocalModel(folder, manifest, config, tokenizer, sessions);
        }
        catch
        {
            sessions.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A fresh conversation state that may hold <paramref name="capacity"/> positions (its context). Memory is
    /// allocated as the conversation fills it; <see cref="ConversationState.Bytes"/> is what it takes when full.
    /// </summary>
    public ConversationState CreateState(int capacity)
    {
        var caches = new KvCache[_layerCount];
        try
        {
            for (var i = 0; i < caches.Length; i++)
                caches[i] = Layer(i).CreateCache(capacity);
        }
        catch
        {
            foreach (var c in caches) c?.Dispose();
            throw;
        }
        return new ConversationState(caches);
    }

    /// <summary>Layer slices, in order: a conversation holds one cache for each.</summary>
    public int LayerSliceCount => _layerCount;

    /// <summary>A cache for layer slice <paramref name="slice"/>, for an owner that keeps caches apart from a state (a <see cref="KvCachePool"/>).</summary>
    public KvCache CreateCache(int slice, int capacity) => Layer(slice).CreateCache(capacity);

    /// <summary>
    /// A conversation over caches someone else owns (one per layer slice, in order, as <see cref="CreateCache(int, int)"/>
    /// makes them): a pool's caches, leased for one request. Do not dispose it; the caches go back to their owner.
    /// </summary>
    public ConversationState StateOver(KvCache[] caches)
    {
        ArgumentNullException.ThrowIfNull(caches);
        if (caches.Length != _layerCount)
            throw new ArgumentException($"{caches.Length} caches given, the model has {_layerCount} layer slices", nameof(caches));
        for (var i = 0; i < caches.Length; i++)
        {
            var spec = _sessions.SpecAt(1 + i);
            if (caches[i].FirstLayer != spec.FirstLayer || caches[i].EndLayer != spec.EndLayer)
                throw new ArgumentException($"cache {i} holds layers [{caches[i].FirstLayer},{caches[i].EndLayer}), the slice [{spec.FirstLayer},{spec.EndLayer})", nameof(caches));
        }
        return new ConversationState(caches);
    }

    /// <summary>Native bytes one position of a conversation takes across every layer (keys and values).</summary>
    public long KvBytesPerPosition => KvCache.BytesPerPositionOf(Config, LayersRun, Manifest.KvPrecision);

    /// <summary>The layers a forward pass runs: all of them, or the first ones of an early-exit copy.</summary>
    public int LayersRun => _layerCount == 0 ? 0 : _sessions.SpecAt(_layerCount).EndLayer;

    /// <summary>
    /// Appends <paramref name="tokens"/> to the conversation and returns logits: for the last position only
    /// (<paramref name="allPositions"/> false: prefill and decode) or for every new position (true:
    /// verifying draft tokens).
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens, ConversationState state, bool allPositions = false)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Caches.Length != _layerCount)
            throw new ArgumentException($"the conversation has {state.Caches.Length} caches, the model {_layerCount} layer slices", nameof(state));
        if (Interlocked.Exchange(ref _running, 1) != 0)
            throw new InvalidOperationException(
                $"{Folder} is already running a step: a model runs one Forward at a time; run conversations in turn (or load one model per thread)");
        var start = state.Length;
        try
        {
            var hidden = Embed.RunTokens(tokens, null);
            for (var i = 0; i < _layerCount; i++)
                hidden = Layer(i).RunHidden(hidden, state.Caches[i]);
            if (!allPositions && tokens.Length > 1)
                hidden = hidden[^Config.Dim..];
            return Head.RunHidden(hidden, null);
        }
        catch
        {
            // The slices before the failing one have appended the new positions: take them back, so every cache
            // of the conversation ends where it started.
            foreach (var cache in state.Caches)
            {
                if (!cache.IsDisposed && cache.Length > start)
                    cache.Truncate(start);
            }
            throw;
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose() => _sessions.Dispose();
}

/// <summary>The KV caches of one conversation across a model's layer slices.</summary>
public sealed class ConversationState : IDisposable
{
    internal ConversationState(KvCache[] caches) => Caches = caches;

    internal KvCache[] Caches { get; }

    public int Length => Caches.Length == 0 ? 0 : Caches[0].Length;

    /// <summary>Positions the conversation may hold (its context).</summary>
    public int Capacity => Caches.Length == 0 ? 0 : Caches[0].Capacity;

    /// <summary>Native memory the caches take when full: what a budget reserves.</summary>
    public long Bytes => Caches.Sum(c => c.Bytes);

    /// <summary>Native memory the caches hold now (they grow as the conversation does).</summary>
    public long AllocatedBytes => Caches.Sum(c => c.AllocatedBytes);

    /// <summary>Drops every position from <paramref name="length"/> on, without recomputing anything.</summary>
    public void Truncate(int length)
    {
        foreach (var c in Caches) c.Truncate(length);
    }

    public void Dispose()
    {
        foreach (var c in Caches) c.Dispose();
    }
}
