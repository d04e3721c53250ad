using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// Serves the slices a node holds to peers that fetch them: each model folder's manifest.json, its slice index, and
/// chunks by their sha256 (docs/pool-slices.md). Plain TCP with length-prefixed requests read through
/// System.IO.Pipelines keeps EdgeNode.Pool free of ASP.NET and AOT-clean, and costs one header per 4 MiB chunk.
/// A request names a chunk only by its hash, so the server can only ever answer with bytes of files its own manifests
/// list; no path from the wire touches the file system.
/// </summary>
public sealed class SliceServer : IAsyncDisposable
{
    private const int WritePieceBytes = 64 * 1024;

    private readonly Socket _listener;
    private readonly SliceServerOptions _options;
    private readonly TokenBucket? _bucket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Task _acceptLoop;
    private readonly object _publishGate = new();
    private volatile Catalog _catalog = new(new Dictionary<string, Served>(StringComparer.Ordinal), new Dictionary<string, ChunkLocation>(StringComparer.Ordinal));
    private int _open;
    private long _bytesSent;
    private long _chunksServed;

    private SliceServer(Socket listener, SliceServerOptions options)
    {
        _listener = listener;
        _options = options;
        _bucket = options.MaxBytesPerSecond is { } cap ? new TokenBucket(cap) : null;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where the server listens (the port is the one the system chose when 0 was asked for).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Body bytes sent so far (chunks, manifests and indexes).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public long ChunksServed => Interlocked.Read(ref _chunksServed);

    /// <summary>The models served, by name.</summary>
    public IReadOnlyCollection<string> Models => _catalog.Models.Keys.ToList();

    /// <summary>
    /// Listens on <paramref name="endpoint"/> and serves each folder in <paramref name="models"/> (name → folder holding
    /// a manifest.json) once its files are hashed. Hashing reads every file once, before Start returns.
    /// </summary>
    public static SliceServer Start(IPEndPoint endpoint, IReadOnlyDictionary<string, string> models, SliceServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(models);
        options ??= new SliceServerOptions();
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endpoint);
            listener.Listen(64);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"slice server: cannot listen on {endpoint} ({e.SocketErrorCode}); choose another port", e);
        }
        var server = new SliceServer(listener, options);
        foreach (var (name, folder) in models)
            server.Publish(name, folder);
        return server;
    }

    /// <summary>Serves every folder under its own name on all addresses at <paramref name="port"/> (0: any free port).</summary>
    public static SliceServer Start(int port, IEnumerable<string> folders, SliceServerOptions? options = null) =>
        Start(new IPEndPoint(IPAddress.Any, port), folders.ToDictionary(f => Path.GetFileName(Path.GetFullPath(f).TrimEnd('/')), f => f, StringComparer.Ordinal), options);

    /// <summary>
    /// Serves (or serves again, after a build or fetch added slices) the model in <paramref name="folder"/> under
    /// <paramref name="name"/>: hashes its files and swaps the new index in; requests in flight finish on the old one.
    /// </summary>
    public SliceIndex Publish(string name, string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(folder);
        var index = SliceIndex.Build(name, folder, _options.ChunkBytes, _options.Log);
        var served = new Served(folder, File.ReadAllBytes(Path.Combine(folder, ModelManifest.FileName)), index.ToJson(), index);
        lock (_publishGate)
        {
            var models = new Dictionary<string, Served>(_catalog.Models, StringComparer.Ordinal) { [name] = served };
            var chunks = new Dictionary<string, ChunkLocation>(StringComparer.Ordinal);
            foreach (var model in models.Values)
            {
                foreach (var file in model.Index.Files)
                {
                    for (var i = 0; i < file.Chunks.Count; i++)
                        chunks.TryAdd(file.Chunks[i], new ChunkLocation(Path.Combine(model.Folder, file.Path), file.ChunkOffset(i, model.Index.ChunkBytes), file.ChunkLength(i, model.Index.ChunkBytes)));
                }
            }
            _catalog = new Catalog(models, chunks);
        }
        return index;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            socket.NoDelay = true;
            var task = ServeConnectionAsync(socket);
            _connections.TryAdd(task, 0);
            _ = task.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeConnectionAsync(Socket socket)
    {
        var peer = socket.RemoteEndPoint?.ToString() ?? "?";
        var stream = new NetworkStream(socket, ownsSocket: true);
        await using var _ = stream.ConfigureAwait(false);
        var busy = Interlocked.Increment(ref _open) > _options.MaxConnections;
        try
        {
            if (busy)
            {
                _options.Log?.Invoke($"slice server: refused {peer}: {_options.MaxConnections} connections are open");
                await WriteErrorAsync(stream, SliceResponseStatus.Busy, $"the server has {_options.MaxConnections} connections open; try again later", _stopping.Token).ConfigureAwait(false);
                return;
            }
            if (_options.Authenticate is { } authenticate && await authenticate(stream, _stopping.Token).ConfigureAwait(false) is { } refusal)
            {
                _options.Log?.Invoke($"slice server: refused {peer}: {refusal}");
                return;
            }
            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
            try
            {
                await ServeRequestsAsync(reader, stream, peer).ConfigureAwait(false);
            }
            finally
            {
                await reader.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or the server is stopping: nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    private async Task ServeRequestsAsync(PipeReader reader, NetworkStream stream, string peer)
    {
        var header = new byte[SliceWire.HeaderBytes];
        var body = new byte[SliceWire.MaxRequestBody];
        while (true)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            idle.CancelAfter(_options.IdleTimeout);
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(idle.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
                return; // idle
            }
            var buffer = result.Buffer;
            if (buffer.Length < SliceWire.HeaderBytes)
            {
                if (result.IsCompleted)
                    return;
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            buffer.Slice(0, SliceWire.HeaderBytes).CopyTo(header);
            if (SliceWire.ReadRequestHeader(header, out var kind, out var bodyLength) is { } refusal)
            {
                _options.Log?.Invoke($"slice server: refused a request from {peer}: {refusal}");
                await WriteErrorAsync(stream, SliceResponseStatus.BadRequest, refusal, _stopping.Token).ConfigureAwait(false);
                return; // framing is lost: close
            }
            if (buffer.Length < SliceWire.HeaderBytes + bodyLength)
            {
                if (result.IsCompleted)
                    return;
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            buffer.Slice(SliceWire.HeaderBytes, bodyLength).CopyTo(body);
            reader.AdvanceTo(buffer.GetPosition(SliceWire.HeaderBytes + bodyLength));
            await AnswerAsync(stream, kind, body.AsMemory(0, bodyLength), peer).ConfigureAwait(false);
        }
    }

    private async Task AnswerAsync(NetworkStream stream, SliceRequestKind kind, ReadOnlyMemory<byte> body, string peer)
    {
        var catalog = _catalog;
        var token = _stopping.Token;
        if (kind is SliceRequestKind.Manifest or SliceRequestKind.Index)
        {
            var name = Encoding.UTF8.GetString(body.Span);
            if (!catalog.Models.TryGetValue(name, out var served))
            {
                await WriteErrorAsync(stream, SliceResponseStatus.NotFound, $"this node serves no model '{name}' (it serves: {string.Join(", ", catalog.Models.Keys)})", token).ConfigureAwait(false);
                return;
            }
            await WriteBodyAsync(stream, kind == SliceRequestKind.Manifest ? served.ManifestBytes : served.IndexJson, token).ConfigureAwait(false);
            return;
        }

        if (body.Length != 32)
        {
            await WriteErrorAsync(stream, SliceResponseStatus.BadRequest, $"a chunk request carries a 32-byte sha256, not {body.Length} bytes", token).ConfigureAwait(false);
            return;
        }
        var hash = Convert.ToHexStringLower(body.Span);
        if (!catalog.Chunks.TryGetValue(hash, out var location))
        {
            await WriteErrorAsync(stream, SliceResponseStatus.NotFound, $"this node holds no chunk {hash}", token).ConfigureAwait(false);
            return;
        }
        var chunk = ArrayPool<byte>.Shared.Rent(location.Length);
        try
        {
            try
            {
                using var handle = File.OpenHandle(location.Path, FileMode.Open, FileAccess.Read, FileShare.Read);
                SliceIndex.ReadExactly(handle, chunk.AsSpan(0, location.Length), location.Offset, location.Path);
            }
            catch (IOException e)
            {
                _options.Log?.Invoke($"slice server: chunk {hash} for {peer}: {e.Message}");
                await WriteErrorAsync(stream, SliceResponseStatus.ServerError, $"chunk {hash} cannot be read here ({e.Message})", token).ConfigureAwait(false);
                return;
            }
            // The bytes go out as they are on disk: the fetching node checks them against the hash, so a file that
            // rotted since it was indexed is refused there and fetched from another peer.
            await WriteBodyAsync(stream, chunk.AsMemory(0, location.Length), token).ConfigureAwait(false);
            Interlocked.Increment(ref _chunksServed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private async Task WriteBodyAsync(NetworkStream stream, ReadOnlyMemory<byte> body, CancellationToken token)
    {
        var header = new byte[SliceWire.HeaderBytes];
        SliceWire.WriteResponseHeader(header, SliceResponseStatus.Ok, body.Length);
        await stream.WriteAsync(header, token).ConfigureAwait(false);
        while (body.Length > 0)
        {
            var piece = body[..Math.Min(WritePieceBytes, body.Length)];
            if (_bucket is not null)
                await _bucket.TakeAsync(piece.Length, token).ConfigureAwait(false);
            await stream.WriteAsync(piece, token).ConfigureAwait(false);
            Interlocked.Add(ref _bytesSent, piece.Length);
            body = body[piece.Length..];
        }
    }

    private static async Task WriteErrorAsync(NetworkStream stream, SliceResponseStatus status, string reason, CancellationToken token)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var frame = new byte[SliceWire.HeaderBytes + text.Length];
        SliceWire.WriteResponseHeader(frame, status, text.Length);
        text.CopyTo(frame, SliceWire.HeaderBytes);
        await stream.WriteAsync(frame, token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
            return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A connection stuck in a write to a peer that stopped reading: its socket goes with the process.
        }
        _stopping.Dispose();
    }

    private sealed record Served(string Folder, byte[] ManifestBytes, byte[] IndexJson, SliceIndex Index);

    private readonly record struct ChunkLocation(string Path, long Offset, int Length);

    private sealed record Catalog(Dictionary<string, Served> Models, Dictionary<string, ChunkLocation> Chunks);
}
