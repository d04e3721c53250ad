using EdgeNode.Inference.Runtime;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Inference.Sessions;

/// <summary>
/// The slice sessions a model (or a pool node's part of one) runs, opened together from their files, whose layer slices
/// are re-opened together at another intra-op thread count: ONNX Runtime fixes a session's threads when it creates it,
/// so a thread step of the device governor needs new sessions. KV caches are not the sessions': a conversation's caches are bound
/// by the new sessions on their next run, and since the thread count does not change what a kernel computes (only how
/// its rows are shared out), the conversation goes on with the same logits.
/// <para>
/// A re-open closes every old layer session before it opens the first new one: a board near its memory budget must not
/// hold two prepacked copies of its weights. When the new count cannot be opened (memory, a file gone), the old count is
/// opened again; when that fails too, the group is unloaded and every use says why.
/// </para>
/// <para>Threading: the owner's. Nothing may run on the sessions while <see cref="ChangeThreads"/> runs.</para>
/// </summary>
public sealed class SliceSessionGroup : IDisposable
{
    private readonly InferenceRuntime _runtime;
    private readonly LlamaConfig _config;
    private readonly (string Path, SliceSpec Spec)[] _files;
    // Null where a layer slice is closed for a re-open (or could not be opened again).
    private readonly SliceSession?[] _sessions;
    private string? _unloaded;

    private SliceSessionGroup(InferenceRuntime runtime, LlamaConfig config, (string Path, SliceSpec Spec)[] files, int threads)
    {
        _runtime = runtime;
        _config = config;
        _files = files;
        _sessions = new SliceSession?[files.Length];
        Threads = threads;
    }

    /// <summary>Opens one session per file, in order.</summary>
    /// <param name="threads">Intra-op threads (0: one per physical core); null: the runtime's <see cref="InferenceOptions.Threads"/>.</param>
    public static SliceSessionGroup Open(InferenceRuntime runtime, IReadOnlyList<(string Path, SliceSpec Spec)> files, LlamaConfig config, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(files);
        var count = threads ?? runtime.Options.Threads;
        ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(threads));
        var group = new SliceSessionGroup(runtime, config, files.ToArray(), count);
        group.OpenClosed(count);
        return group;
    }

    /// <summary>Sessions in the group (also while unloaded).</summary>
    public int Count => _files.Length;

    /// <summary>The intra-op threads the group's layer slices were created with (the embedding and a head of its own run on one).</summary>
    public int Threads { get; private set; }

    /// <summary>False after a re-open that could open neither the new nor the old thread count.</summary>
    public bool IsLoaded => _unloaded is null;

    /// <summary>The session of file <paramref name="index"/>.</summary>
    /// <exception cref="InvalidOperationException">The group is unloaded (the message says why).</exception>
    public SliceSession this[int index] => _unloaded is null ? _sessions[index]! : throw new InvalidOperationException(_unloaded);

    /// <summary>What file <paramref name="index"/> runs; known also while unloaded.</summary>
    public SliceSpec SpecAt(int index) => _files[index].Spec;

    /// <summary>
    /// Closes the sessions of the slices with layers, then opens them again from the same files with
    /// <paramref name="threads"/> intra-op threads; the embedding and a head of its own run on the caller's thread at any
    /// count and stay as they are. Caches made for the old sessions stay valid for the new ones.
    /// </summary>
    /// <exception cref="SliceReopenException">
    /// The new count could not be opened; <see cref="IsLoaded"/> says whether the old one was opened again.
    /// </exception>
    public void ChangeThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (threads == Threads && IsLoaded)
            return;
        var wasLoaded = IsLoaded;
        var previous = Threads;
        CloseLayers();
        try
        {
            OpenClosed(threads);
            Threads = threads;
            _unloaded = null;
            return;
        }
        catch (Exception first) when (wasLoaded)
        {
            try
            {
                OpenClosed(previous);
            }
            catch (Exception second)
            {
                _unloaded = $"{Names()}: closed to re-open with {threads} threads, and opened with neither {threads} ({first.Message}) nor {previous} ({second.Message}); load the model again";
                throw new SliceReopenException(_unloaded, first);
            }
            _unloaded = null;
            throw new SliceReopenException($"{Names()}: could not be opened with {threads} threads ({first.Message}); they run with {previous} threads again", first);
        }
        catch (Exception again)
        {
            _unloaded = $"{Names()}: unloaded, and could not be opened with {threads} threads ({again.Message}); load the model again";
            throw new SliceReopenException(_unloaded, again);
        }
    }

    private string Names() => string.Join(", ", _files.Where(f => f.Spec.HasLayers).Select(f => Path.GetFileName(f.Path)));

    /// <summary>
    /// Opens every closed slice with <paramref name="threads"/>: all of them when the group is made, the layer slices after
    /// <see cref="CloseLayers"/>. On a failure it closes what it opened and throws.
    /// </summary>
    private void OpenClosed(int threads)
    {
        var opened = new List<int>();
        try
        {
            for (var i = 0; i < _files.Length; i++)
            {
                if (_sessions[i] is not null)
                    continue;
                _sessions[i] = new SliceSession(_runtime, _files[i].Path, _files[i].Spec, _config, threads);
                opened.Add(i);
            }
        }
        catch
        {
            foreach (var i in opened)
            {
                _sessions[i]!.Dispose();
                _sessions[i] = null;
            }
            throw;
        }
    }

    private void CloseLayers()
    {
        // A session drops its binding of a cache when it goes; the cache itself, and what it holds, stays.
        _unloaded = "the slice sessions are being re-opened";
        for (var i = 0; i < _sessions.Length; i++)
        {
            if (_files[i].Spec.HasLayers)
            {
                _sessions[i]?.Dispose();
                _sessions[i] = null;
            }
        }
    }

    public void Dispose()
    {
        for (var i = 0; i < _sessions.Length; i++)
        {
            _sessions[i]?.Dispose();
            _sessions[i] = null;
        }
        _unloaded ??= "the slice sessions are closed";
    }
}
