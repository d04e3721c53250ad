using EdgeNode.Inference.Runtime;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// A converted model folder run whole in this process (local solo): the embed slice, its layer slices
/// in order and the head slice, with hidden states handed from one to the next in memory.
/// </summary>
public sealed class LocalModel : IDisposable
{
    private readonly SliceSession _embed;
    private readonly SliceSession[] _layers;
    private readonly SliceSession _head;

    private LocalModel(string folder, ModelManifest manifest, LlamaConfig config, ITextTokenizer tokenizer, SliceSession embed, SliceSession[] layers, SliceSession head)
    {
        Folder = folder;
        Manifest = manifest;
        Config = config;
        Tokenizer = tokenizer;
        _embed = embed;
        _layers = layers;
        _head = head;
    }

    public string Folder { get; }
    public ModelManifest Manifest { get; }
    public LlamaConfig Config { get; }
    public ITextTokenizer Tokenizer { get; }

    public static LocalModel Load(InferenceRuntime runtime, string folder, string? tokenizerPath = null)
    {
        var manifest = ModelManifest.Load(folder);
        var config = manifest.ToLlamaConfig();
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

        var sessions = new List<SliceSession>();
        try
        {
            var embed = Open(embedSlice);
            var layers = layerSlices.Select(Open).ToArray();
            var head = Open(headSlice);
            return new LocalModel(folder, manifest, config, tokenizer, embed, layers, head);
        }
        catch
        {
            foreach (var s in sessions) s.Dispose();
            throw;
        }

        SliceSession Open(ManifestSlice slice)
        {
            var path = Path.Combine(folder, slice.File);
            if (!File.Exists(path))
                throw new ModelFormatException($"{folder}: slice file {slice.File} named in the manifest is missing; convert the model again");
            var session = new SliceSession(runtime, path, slice.ToSpec(), config);
            sessions.Add(session);
            return session;
        }
    }

    /// <summary>A fresh conversation state able to hold <paramref name="capacity"/> positions.</summary>
    public ConversationState CreateState(int capacity) => new(_layers.Select(l => l.CreateCache(capacity)).ToArray());

    /// <summary>
    /// Appends <paramref name="tokens"/> to the conversation and returns logits: for the last position only
    /// (<paramref name="allPositions"/> false: prefill and decode) or for every new position (true:
    /// verifying draft tokens).
    /// </summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<int> tokens, ConversationState state, bool allPositions = false)
    {
        var hidden = _embed.RunTokens(tokens, null);
        for (var i = 0; i < _layers.Length; i++)
            hidden = _layers[i].RunHidden(hidden, state.Caches[i]);
        if (!allPositions && tokens.Length > 1)
            hidden = hidden[^Config.Dim..];
        return _head.RunHidden(hidden, null);
    }

    public void Dispose()
    {
        _embed.Dispose();
        foreach (var l in _layers) l.Dispose();
        _head.Dispose();
    }
}

/// <summary>The KV caches of one conversation across a model's layer slices.</summary>
public sealed class ConversationState : IDisposable
{
    internal ConversationState(KvCache[] caches) => Caches = caches;

    internal KvCache[] Caches { get; }

    public int Length => Caches.Length == 0 ? 0 : Caches[0].Length;

    public int Capacity => Caches.Length == 0 ? 0 : Caches[0].Capacity;

    public long Bytes => Caches.Sum(c => c.Bytes);

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
