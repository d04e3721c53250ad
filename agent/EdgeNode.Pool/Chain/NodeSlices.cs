using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// The slices one node runs for its assignment, loaded from a converted folder: the embedding (entry), the slices that
/// together cover exactly layers [FirstLayer, EndLayer), and the head (last). The folder may hold more (a whole model
/// converted with several layer ranges); only the files of this assignment are opened. Hidden states pass from slice
/// to slice in memory, as in local solo. <see cref="ChangeThreads"/> re-opens the slices at another intra-op thread
/// count (the device governor's step) and keeps every session's KV caches.
/// <para>Threading: one <see cref="Run"/> or <see cref="ChangeThreads"/> at a time (the node's worker).</para>
/// </summary>
public sealed class NodeSlices : IDisposable
{
    private readonly SliceSessionGroup _slices;
    // Index into the session's caches for each slice with layers; -1 for a slice without.
    private readonly int[] _cacheIndex;
    private float[] _lastRow = [];

    private NodeSlices(SliceAssignment assignment, ModelManifest manifest, LlamaConfig config, SliceSessionGroup slices, ITextTokenizer? tokenizer)
    {
        Assignment = assignment;
        Manifest = manifest;
        Config = config;
        _slices = slices;
        Tokenizer = tokenizer;
        _cacheIndex = new int[slices.Count];
        var caches = 0;
        for (var i = 0; i < slices.Count; i++)
            _cacheIndex[i] = slices.SpecAt(i).HasLayers ? caches++ : -1;
        CacheCount = caches;
    }

    public SliceAssignment Assignment { get; }
    public ModelManifest Manifest { get; }
    public LlamaConfig Config { get; }

    /// <summary>The tokenizer, loaded on the entry node only (the one that holds the embedding).</summary>
    public ITextTokenizer? Tokenizer { get; }

    /// <summary>KV caches a session needs on this node: one per slice with layers.</summary>
    public int CacheCount { get; }

    /// <summary>The ONNX files this node opened (for logs and status).</summary>
    public IEnumerable<string> Files => Enumerable.Range(0, _slices.Count).Select(i => _slices.SpecAt(i).FileName);

    /// <summary>The intra-op threads the slices run with now (0: one per physical core).</summary>
    public int Threads => _slices.Threads;

    /// <summary>False after a thread change that could open the slices at neither count: the node cannot run its part.</summary>
    public bool IsLoaded => _slices.IsLoaded;

    /// <summary>
    /// Re-opens the slices from the same files with <paramref name="threads"/> intra-op threads, the old sessions closed
    /// first (never two copies of the weights at once). Every session's caches stay as they are: the new slices bind
    /// them on their next run.
    /// </summary>
    /// <exception cref="SliceReopenException">The slices could not be opened at <paramref name="threads"/>; <see cref="IsLoaded"/> says whether they run at the old count.</exception>
    public void ChangeThreads(int threads) => _slices.ChangeThreads(threads);

    /// <summary>Opens the slices of <paramref name="assignment"/> from <paramref name="folder"/>.</summary>
    /// <param name="threads">Intra-op threads of the slices; null: the runtime's.</param>
    /// <exception cref="ModelFormatException">The folder does not hold slices that cover the assignment exactly.</exception>
    public static NodeSlices Load(InferenceRuntime runtime, string folder, SliceAssignment assignment, int? threads = null)
    {
        var manifest = ModelManifest.Load(folder);
        var config = manifest.ToLlamaConfig();
        if (assignment.FirstLayer < 0 || assignment.EndLayer > config.Layers || assignment.FirstLayer > assignment.EndLayer)
            throw new ModelFormatException($"{folder}: the assignment's layers [{assignment.FirstLayer},{assignment.EndLayer}) are not within the model's {config.Layers}");
        if (assignment.Embed && assignment.FirstLayer != 0)
            throw new ModelFormatException($"{folder}: an assignment with the embedding must start at layer 0, this one starts at {assignment.FirstLayer}");
        if (assignment.Head && assignment.EndLayer != config.Layers)
            throw new ModelFormatException($"{folder}: an assignment with the head must end at layer {config.Layers}, this one ends at {assignment.EndLayer}");
        var chosen = Cover(manifest, assignment, folder);
        var files = new List<(string Path, SliceSpec Spec)>();
        foreach (var slice in chosen)
        {
            var path = Path.Combine(folder, slice.File);
            if (!File.Exists(path))
                throw new ModelFormatException($"{folder}: slice file {slice.File} named in the manifest is missing; fetch or convert this node's slice again");
            files.Add((path, slice.ToSpec()));
        }
        var sessions = SliceSessionGroup.Open(runtime, files, config, threads);
        try
        {
            ITextTokenizer? tokenizer = null;
            if (assignment.Embed)
                tokenizer = TextTokenizerLoader.Load(Path.Combine(folder, manifest.Tokenizer), config.VocabSize);
            return new NodeSlices(assignment, manifest, config, sessions, tokenizer);
        }
        catch
        {
            sessions.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The manifest slices that run, in order, exactly the embedding (when asked), layers [first, end) and the head
    /// (when asked): at each point the slice that reaches furthest without passing the end is taken.
    /// </summary>
    internal static List<ManifestSlice> Cover(ModelManifest manifest, SliceAssignment assignment, string folder)
    {
        var chosen = new List<ManifestSlice>();
        var needEmbed = assignment.Embed;
        var layer = assignment.FirstLayer;
        var needHead = assignment.Head;
        while (needEmbed || layer < assignment.EndLayer || needHead)
        {
            ManifestSlice? best = null;
            foreach (var s in manifest.Slices)
            {
                if (s.Embed != needEmbed || s.FirstLayer != layer || s.EndLayer > assignment.EndLayer)
                    continue;
                if (s.Head && !(needHead && s.EndLayer == assignment.EndLayer))
                    continue;
                if (!s.Embed && !s.Head && s.EndLayer == s.FirstLayer)
                    continue;
                // Furthest first; at the same reach, the one that also takes the head saves a run.
                if (best is null || s.EndLayer > best.EndLayer || s.EndLayer == best.EndLayer && s.Head && !best.Head)
                    best = s;
            }
            if (best is null)
            {
                var want = needEmbed ? "the embedding" : layer < assignment.EndLayer ? $"layer {layer}" : "the head";
                throw new ModelFormatException(
                    $"{folder}: no slice in the manifest starts with {want} and stays within layers [{assignment.FirstLayer},{assignment.EndLayer}); " +
                    $"it has {string.Join(", ", manifest.Slices.Select(s => s.File))}; convert with layer ranges that match the plan");
            }
            chosen.Add(best);
            needEmbed = false;
            layer = best.EndLayer;
            if (best.Head)
                needHead = false;
        }
        return chosen;
    }

    /// <summary>Fresh KV caches for one session on this node, each holding up to <paramref name="capacity"/> positions.</summary>
    public KvCache[] CreateCaches(int capacity)
    {
        var caches = new KvCache[CacheCount];
        try
        {
            for (var i = 0; i < _slices.Count; i++)
            {
                if (_cacheIndex[i] >= 0)
                    caches[_cacheIndex[i]] = _slices[i].CreateCache(capacity);
            }
        }
        catch
        {
            foreach (var c in caches) c?.Dispose();
            throw;
        }
        return caches;
    }

    /// <summary>
    /// Token ids through the node's slices (entry only). Returns hidden states of every position, or, when this node
    /// holds the head, the logits of the last <paramref name="headRows"/> positions (one for a step; k + 1 to verify k drafts).
    /// </summary>
    public ReadOnlySpan<float> RunTokens(ReadOnlySpan<int> tokens, KvCache[] caches, int headRows = 1) => Run(tokens, default, caches, headRows);

    /// <summary>
    /// Hidden states [positions][dim] through the node's slices. Returns hidden states of every position, or, when this
    /// node holds the head, the logits of the last <paramref name="headRows"/> positions.
    /// </summary>
    public ReadOnlySpan<float> RunHidden(ReadOnlySpan<float> hidden, KvCache[] caches, int headRows = 1) => Run(default, hidden, caches, headRows);

    /// <summary>Drops every position from <paramref name="length"/> on from the session's caches on this node (a rejected draft's).</summary>
    public static void Truncate(KvCache[] caches, int length)
    {
        foreach (var cache in caches)
        {
            if (cache.Length > length)
                cache.Truncate(length);
        }
    }

    private ReadOnlySpan<float> Run(ReadOnlySpan<int> tokens, ReadOnlySpan<float> hidden, KvCache[] caches, int headRows)
    {
        var start = caches.Length == 0 ? 0 : caches[0].Length;
        try
        {
            var current = hidden;
            for (var i = 0; i < _slices.Count; i++)
            {
                var slice = _slices[i];
                var cache = _cacheIndex[i] >= 0 ? caches[_cacheIndex[i]] : null;
                if (i == 0 && slice.Spec.Embed)
                {
                    current = slice.RunTokens(tokens, cache);
                    continue;
                }
                // Only the last position(s) feed the head: their logits are all that is sampled or verified.
                if (slice.Spec.Head && !slice.Spec.HasLayers && current.Length > Config.Dim * headRows)
                    current = current[^(Config.Dim * headRows)..];
                current = slice.RunHidden(current, cache);
            }
            if (Assignment.Head && current.Length > Config.VocabSize * headRows)
            {
                // A slice that runs layers and head together gives logits for every position: keep the last rows.
                var last = current[^(Config.VocabSize * headRows)..];
                if (_lastRow.Length < last.Length)
                    _lastRow = new float[last.Length];
                last.CopyTo(_lastRow);
                return _lastRow.AsSpan(0, last.Length);
            }
            return current;
        }
        catch
        {
            // The slices before the failing one appended the new positions: take them back so the session stays consistent.
            foreach (var cache in caches)
            {
                if (!cache.IsDisposed && cache.Length > start)
                    cache.Truncate(start);
            }
            throw;
        }
    }

    public void Dispose() => _slices.Dispose();
}
