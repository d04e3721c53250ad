using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// Fetches one slice's files from peers that hold them (docs/pool-slices.md). The model owner's manifest is the
/// authority: a peer's index is used for a file only when it names the size and sha256 the owner published; each chunk
/// is checked against the index as it arrives (a mismatch is refused and asked of the next peer); the whole file is
/// checked against the owner's sha256 before it takes its name. Verified chunks stay on disk in FILE.partial, so a
/// fetch that was interrupted continues where it stopped. No node needs the whole model.
/// </summary>
public static class SliceFetcher
{
    /// <summary>
    /// The manifest a peer serves for <paramref name="model"/>, checked against <paramref name="expectedSha256"/> (the
    /// hash the model's owner published) when one is given.
    /// </summary>
    public static async Task<ModelManifest> GetManifestAsync(EndPoint peer, string model, string? expectedSha256, TimeSpan timeout, CancellationToken cancellationToken = default,
        Func<EndPoint, CancellationToken, ValueTask<Stream>>? connect = null)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(model);
        await using var client = await SliceClient.ConnectAsync(peer, timeout, connect, cancellationToken).ConfigureAwait(false);
        var bytes = await client.GetAsync(SliceRequestKind.Manifest, model, timeout, cancellationToken).ConfigureAwait(false);
        var sha256 = SliceIndex.Sha256Hex(bytes);
        if (expectedSha256 is not null && !string.Equals(sha256, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new SliceFetchException($"peer {peer} serves a manifest of {model} with sha256 {sha256}, not the {expectedSha256} its owner published; fetch from another peer");
        return ModelManifest.Parse(bytes, $"manifest of {model} from {peer}");
    }

    /// <summary>
    /// Fetches the files of <paramref name="spec"/> (a slice <paramref name="published"/> lists) from
    /// <paramref name="peers"/> into <paramref name="outFolder"/>, and records the slice in the folder's manifest.json.
    /// </summary>
    /// <param name="model">The name the peers serve the model under.</param>
    /// <param name="published">The model owner's manifest: the sizes and sha256 every file must have.</param>
    /// <exception cref="SliceFetchException">No peer offers a file as published, or a chunk failed on every attempt.</exception>
    public static async Task<SliceFetchResult> FetchAsync(IReadOnlyList<EndPoint> peers, string model, ModelManifest published, SliceSpec spec, string outFolder,
        SliceFetchOptions? options = null, IProgress<SliceFetchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(published);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(outFolder);
        options ??= new SliceFetchOptions();
        if (peers.Count == 0)
            throw new ArgumentException("no peers to fetch from", nameof(peers));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Connections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttemptsPerChunk, 1);

        var slice = published.Find(spec.Embed, spec.FirstLayer, spec.EndLayer, spec.Head)
            ?? throw new SliceFetchException($"model {model} has no slice {spec} in its owner's manifest (it has: {string.Join(", ", published.Slices.Select(s => s.ToSpec()))}); ask for one of those");
        var files = published.FilesOf(slice).ToList();
        if (files.Count == 0)
            throw new SliceFetchException($"the owner's manifest of {model} lists no files for slice {spec}");
        var withModelFiles = options.IncludeModelFiles ?? (spec.Embed || spec.Head);
        if (withModelFiles)
            files.AddRange(published.ModelFiles);
        foreach (var file in files)
        {
            if (Path.GetFileName(file.Path) != file.Path || file.Path is "." or ".." || file.Path == ModelManifest.FileName)
                throw new SliceFetchException($"the owner's manifest of {model} lists a file '{file.Path}' that is not a plain file name; refusing it");
        }
        Directory.CreateDirectory(outFolder);

        var run = new Run(spec.ToString(), options, progress);
        var plans = await PlanAsync(peers, model, files, outFolder, options, cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var plan in plans)
                run.Resume(plan);
            await run.FetchAsync(plans, cancellationToken).ConfigureAwait(false);
            foreach (var plan in plans)
                Finish(plan, model);
        }
        finally
        {
            foreach (var plan in plans)
                plan.Handle?.Dispose();
        }
        var manifest = SliceFolder.Record(outFolder, published.Holding([slice], withModelFiles));
        return run.Result(manifest);
    }

    /// <summary>Fetches from one peer; see <see cref="FetchAsync(IReadOnlyList{EndPoint}, string, ModelManifest, SliceSpec, string, SliceFetchOptions?, IProgress{SliceFetchProgress}?, CancellationToken)"/>.</summary>
    public static Task<SliceFetchResult> FetchAsync(EndPoint peer, string model, ModelManifest published, SliceSpec spec, string outFolder,
        SliceFetchOptions? options = null, IProgress<SliceFetchProgress>? progress = null, CancellationToken cancellationToken = default) =>
        FetchAsync([peer], model, published, spec, outFolder, options, progress, cancellationToken);

    /// <summary>Asks every peer for its index and picks, for each file, the peers that offer it exactly as published.</summary>
    private static async Task<List<FilePlan>> PlanAsync(IReadOnlyList<EndPoint> peers, string model, List<ManifestFile> files, string outFolder,
        SliceFetchOptions options, CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(peers.Select(async peer =>
        {
            try
            {
                await using var client = await SliceClient.ConnectAsync(peer, options.ConnectTimeout, options.Connect, cancellationToken).ConfigureAwait(false);
                var json = await client.GetAsync(SliceRequestKind.Index, model, options.StallTimeout, cancellationToken).ConfigureAwait(false);
                return (Peer: peer, Index: SliceIndex.Parse(json, $"slice index of {model} from {peer}"), Error: (string?)null);
            }
            catch (Exception e) when (e is IOException or ModelFormatException)
            {
                return (Peer: peer, Index: (SliceIndex?)null, Error: e.Message);
            }
        })).ConfigureAwait(false);
        // A cancelled fetch is cancelled, not "no peer answered".
        cancellationToken.ThrowIfCancellationRequested();

        var plans = new List<FilePlan>(files.Count);
        foreach (var file in files)
        {
            var offers = answers
                .Select(a => (a.Peer, a.Index, Entry: a.Index?.Find(file.Path)))
                .Where(a => a.Entry is { } e && e.Bytes == file.Bytes && e.Sha256 == file.Sha256)
                .ToList();
            if (offers.Count == 0)
            {
                var reasons = answers.Select(a => a.Error is not null ? $"{a.Peer}: {a.Error}"
                    : a.Index!.Find(file.Path) is { } e ? $"{a.Peer}: holds {file.Path} with {e.Bytes} bytes, sha256 {e.Sha256}"
                    : $"{a.Peer}: does not hold {file.Path}");
                throw new SliceFetchException(
                    $"no peer offers {file.Path} of {model} as its owner published it ({file.Bytes} bytes, sha256 {file.Sha256}): {string.Join("; ", reasons)}");
            }
            var first = offers[0];
            // Chunks are named by their hashes: only peers that cut the file the same way can serve them.
            var sources = offers.Where(o => o.Index!.ChunkBytes == first.Index!.ChunkBytes && o.Entry!.Chunks.SequenceEqual(first.Entry!.Chunks)).Select(o => o.Peer).ToList();
            plans.Add(new FilePlan(file, Path.Combine(outFolder, file.Path), first.Index!.ChunkBytes, first.Entry!.Chunks, sources));
        }
        return plans;
    }

    /// <summary>Checks the assembled file against the owner's sha256 and gives it its name.</summary>
    private static void Finish(FilePlan plan, string model)
    {
        if (plan.Complete)
            return;
        plan.Handle!.Dispose();
        plan.Handle = null;
        var partial = plan.Target + ".partial";
        var sha256 = HashFile(partial);
        if (sha256 != plan.File.Sha256)
        {
            File.Delete(partial);
            throw new SliceFetchException(
                $"{plan.File.Path} of {model}: every chunk matched the index of {string.Join(", ", plan.Peers)}, but the file's sha256 is {sha256}, " +
                $"not the {plan.File.Sha256} the owner published: that index is wrong; the partial file is deleted — fetch from another peer");
        }
        File.Move(partial, plan.Target, overwrite: true);
        plan.Complete = true;
    }

    private static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private sealed class FilePlan(ManifestFile file, string target, int chunkBytes, List<string> chunks, List<EndPoint> peers)
    {
        public ManifestFile File { get; } = file;
        public string Target { get; } = target;
        public int ChunkBytes { get; } = chunkBytes;
        public List<string> Chunks { get; } = chunks;
        public List<EndPoint> Peers { get; } = peers;
        public Microsoft.Win32.SafeHandles.SafeFileHandle? Handle { get; set; }
        public bool Complete { get; set; }
        public List<int> Pending { get; } = [];

        public long Offset(int chunk) => (long)chunk * ChunkBytes;

        public int Length(int chunk) => (int)Math.Min(ChunkBytes, File.Bytes - Offset(chunk));
    }

    /// <summary>The state of one fetch: counters, the progress reports, the workers.</summary>
    private sealed class Run(string slice, SliceFetchOptions options, IProgress<SliceFetchProgress>? progress)
    {
        private static readonly TimeSpan s_rateWindow = TimeSpan.FromSeconds(3);

        private readonly TokenBucket? _bucket = options.MaxBytesPerSecond is { } cap ? new TokenBucket(cap) : null;
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly object _reportGate = new();
        private readonly Queue<(long Timestamp, long Bytes)> _samples = new();
        private long _lastReport;
        private long _total;
        private long _done;
        private long _resumed;
        private long _transferred;
        private int _chunksTotal;
        private int _chunksDone;
        private int _refused;

        /// <summary>Keeps what is already on disk and verified: the finished file, or the chunks of FILE.partial that match.</summary>
        public void Resume(FilePlan plan)
        {
            _total += plan.File.Bytes;
            _chunksTotal += plan.Chunks.Count;
            if (File.Exists(plan.Target) && new FileInfo(plan.Target).Length == plan.File.Bytes && HashFile(plan.Target) == plan.File.Sha256)
            {
                plan.Complete = true;
                _done += plan.File.Bytes;
                _resumed += plan.File.Bytes;
                _chunksDone += plan.Chunks.Count;
                return;
            }
            var partial = plan.Target + ".partial";
            plan.Handle = File.OpenHandle(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            if (RandomAccess.GetLength(plan.Handle) != plan.File.Bytes)
            {
                // Not a partial copy of this file: start over.
                RandomAccess.SetLength(plan.Handle, 0);
                RandomAccess.SetLength(plan.Handle, plan.File.Bytes);
                plan.Pending.AddRange(Enumerable.Range(0, plan.Chunks.Count));
                return;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(plan.ChunkBytes);
            try
            {
                Span<byte> hash = stackalloc byte[32];
                for (var i = 0; i < plan.Chunks.Count; i++)
                {
                    var span = buffer.AsSpan(0, plan.Length(i));
                    SliceIndex.ReadExactly(plan.Handle, span, plan.Offset(i), partial);
                    SHA256.HashData(span, hash);
                    if (Convert.ToHexStringLower(hash) == plan.Chunks[i])
                    {
                        _done += span.Length;
                        _resumed += span.Length;
                        _chunksDone++;
                    }
                    else
                    {
                        plan.Pending.Add(i);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public async Task FetchAsync(List<FilePlan> plans, CancellationToken cancellationToken)
        {
            Report(force: true);
            var queue = new ConcurrentQueue<(FilePlan Plan, int Chunk)>(plans.SelectMany(p => p.Pending.Select(c => (p, c))));
            if (queue.IsEmpty)
                return;
            using var failFast = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var maxChunk = plans.Max(p => p.ChunkBytes);
            var workers = Enumerable.Range(0, Math.Min(options.Connections, queue.Count)).Select(async worker =>
            {
                try
                {
                    await WorkAsync(worker, queue, maxChunk, failFast.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    await failFast.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }).ToList();
            try
            {
                await Task.WhenAll(workers).ConfigureAwait(false);
            }
            catch (Exception)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // The failure that stopped the fetch, not what its cancellation caused in the other workers.
                var failures = workers.Where(w => w.IsFaulted).Select(w => w.Exception!.InnerException!).ToList();
                var failure = failures.Find(e => e is SliceFetchException) ?? failures.Find(e => e is not OperationCanceledException);
                if (failure is not null)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                throw;
            }
            Report(force: true);
        }

        private async Task WorkAsync(int worker, ConcurrentQueue<(FilePlan Plan, int Chunk)> queue, int maxChunk, CancellationToken cancellationToken)
        {
            var clients = new Dictionary<EndPoint, SliceClient>();
            var buffer = ArrayPool<byte>.Shared.Rent(maxChunk);
            try
            {
                while (queue.TryDequeue(out var item))
                    await FetchChunkAsync(worker, item.Plan, item.Chunk, clients, buffer, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                foreach (var client in clients.Values)
                    await client.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async Task FetchChunkAsync(int worker, FilePlan plan, int chunk, Dictionary<EndPoint, SliceClient> clients, byte[] buffer, CancellationToken cancellationToken)
        {
            var expected = Convert.FromHexString(plan.Chunks[chunk]);
            var length = plan.Length(chunk);
            var destination = buffer.AsMemory(0, length);
            var failures = new List<string>();
            for (var attempt = 0; attempt < options.MaxAttemptsPerChunk; attempt++)
            {
                // Each retry goes to the next peer that holds the file, so one bad copy cannot fail the fetch.
                var peer = plan.Peers[(worker + attempt) % plan.Peers.Count];
                try
                {
                    if (!clients.TryGetValue(peer, out var client))
                        clients[peer] = client = await SliceClient.ConnectAsync(peer, options.ConnectTimeout, options.Connect, cancellationToken).ConfigureAwait(false);
                    await client.GetChunkAsync(expected, destination, _bucket, Received, options.StallTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (!cancellationToken.IsCancellationRequested)
                {
                    if (clients.Remove(peer, out var broken))
                        await broken.DisposeAsync().ConfigureAwait(false);
                    failures.Add($"{peer}: {e.Message}");
                    continue;
                }
                var actual = SHA256.HashData(destination.Span);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    Interlocked.Increment(ref _refused);
                    failures.Add($"{peer}: sent bytes with sha256 {Convert.ToHexStringLower(actual)} (refused)");
                    continue;
                }
                RandomAccess.Write(plan.Handle!, destination.Span, plan.Offset(chunk));
                Interlocked.Add(ref _done, length);
                Interlocked.Increment(ref _chunksDone);
                Report(force: false);
                return;
            }
            throw new SliceFetchException(
                $"chunk {chunk} of {plan.File.Path} (bytes {plan.Offset(chunk)}..{plan.Offset(chunk) + length - 1}, sha256 {plan.Chunks[chunk]}) failed " +
                $"{options.MaxAttemptsPerChunk} times: {string.Join("; ", failures)}");
        }

        private void Received(int bytes)
        {
            Interlocked.Add(ref _transferred, bytes);
            Report(force: false);
        }

        private void Report(bool force)
        {
            if (progress is null)
                return;
            SliceFetchProgress report;
            lock (_reportGate)
            {
                var now = Stopwatch.GetTimestamp();
                if (!force && Stopwatch.GetElapsedTime(_lastReport, now) < options.ProgressInterval)
                    return;
                _lastReport = now;
                var transferred = Interlocked.Read(ref _transferred);
                _samples.Enqueue((now, transferred));
                while (_samples.Count > 2 && Stopwatch.GetElapsedTime(_samples.Peek().Timestamp, now) > s_rateWindow)
                    _samples.Dequeue();
                var (oldest, oldestBytes) = _samples.Peek();
                var seconds = Stopwatch.GetElapsedTime(oldest, now).TotalSeconds;
                // Over the last few seconds; a fetch shorter than the window reports its average since the start.
                var sinceStart = Stopwatch.GetElapsedTime(_started, now).TotalSeconds;
                var rate = seconds > 0.05 ? (transferred - oldestBytes) / seconds : sinceStart > 0 ? transferred / sinceStart : 0;
                var done = Interlocked.Read(ref _done);
                TimeSpan? eta = rate > 0 ? TimeSpan.FromSeconds((_total - done) / rate) : done == _total ? TimeSpan.Zero : null;
                report = new SliceFetchProgress(slice, done, _total, transferred, rate, eta, Volatile.Read(ref _chunksDone), _chunksTotal, Volatile.Read(ref _refused));
                // Reported under the lock so reports reach the callback in order.
                progress.Report(report);
            }
        }

        public SliceFetchResult Result(ModelManifest manifest) =>
            new(manifest, _total, _resumed, Interlocked.Read(ref _transferred), _refused, Stopwatch.GetElapsedTime(_started));
    }
}
