using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// One connection to a <see cref="SliceServer"/>: a request, then its response, in turn. Response bodies are read
/// in pieces so a bandwidth cap can pace them and progress can count bytes as they arrive.
/// </summary>
internal sealed class SliceClient : IAsyncDisposable
{
    private const int ReadPieceBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _header = new byte[SliceWire.HeaderBytes];

    private SliceClient(EndPoint peer, Stream stream)
    {
        Peer = peer;
        _stream = stream;
    }

    public EndPoint Peer { get; }

    /// <summary>Opens a connection through <paramref name="connect"/>, or plain TCP when it is null.</summary>
    public static async Task<SliceClient> ConnectAsync(EndPoint peer, TimeSpan timeout, Func<EndPoint, CancellationToken, ValueTask<Stream>>? connect, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            var stream = await (connect ?? ConnectTcpAsync)(peer, limit.Token).ConfigureAwait(false);
            return new SliceClient(peer, stream);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"no answer from slice server {peer} within {timeout.TotalSeconds:F0} s");
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot connect to slice server {peer}: {e.SocketErrorCode}", e);
        }
    }

    /// <summary>Plain TCP, Nagle off (requests are small and wait for their answer).</summary>
    public static async ValueTask<Stream> ConnectTcpAsync(EndPoint peer, CancellationToken cancellationToken)
    {
        var socket = new Socket(peer.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : peer.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
        };
        try
        {
            await socket.ConnectAsync(peer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>A small response body (a manifest or an index) whole.</summary>
    public async Task<byte[]> GetAsync(SliceRequestKind kind, string model, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var name = Encoding.UTF8.GetBytes(model);
        using var limit = Limit(timeout, cancellationToken);
        try
        {
            await SendAsync(kind, name, limit.Token).ConfigureAwait(false);
            var length = await ReadHeaderAsync(kind == SliceRequestKind.Manifest ? $"manifest of {model}" : $"slice index of {model}", limit.Token).ConfigureAwait(false);
            var body = new byte[length];
            await _stream.ReadExactlyAsync(body, limit.Token).ConfigureAwait(false);
            return body;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"slice server {Peer} sent no {kind} of {model} within {timeout.TotalSeconds:F0} s");
        }
    }

    /// <summary>
    /// Reads the chunk whose sha256 is <paramref name="sha256"/> into <paramref name="destination"/> (which must be
    /// exactly as long as the chunk). <paramref name="received"/> is told of every piece as it arrives; the bucket, when
    /// given, paces the reads. <paramref name="stallTimeout"/> bounds the wait for each piece, not the whole chunk.
    /// </summary>
    public async Task GetChunkAsync(byte[] sha256, Memory<byte> destination, TokenBucket? bucket, Action<int> received, TimeSpan stallTimeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            limit.CancelAfter(stallTimeout);
            await SendAsync(SliceRequestKind.Chunk, sha256, limit.Token).ConfigureAwait(false);
            var length = await ReadHeaderAsync($"chunk {Convert.ToHexStringLower(sha256)}", limit.Token).ConfigureAwait(false);
            if (length != destination.Length)
                throw new IOException($"slice server {Peer} sent {length} bytes for chunk {Convert.ToHexStringLower(sha256)}, its index says {destination.Length}");
            while (destination.Length > 0)
            {
                limit.CancelAfter(stallTimeout);
                var read = await _stream.ReadAsync(destination[..Math.Min(ReadPieceBytes, destination.Length)], limit.Token).ConfigureAwait(false);
                if (read == 0)
                    throw new IOException($"slice server {Peer} closed the connection in the middle of a chunk");
                received(read);
                // Paying after the read lets TCP's window carry the cap back to the sender.
                if (bucket is not null)
                    await bucket.TakeAsync(read, cancellationToken).ConfigureAwait(false);
                destination = destination[read..];
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"slice server {Peer} sent nothing for {stallTimeout.TotalSeconds:F0} s");
        }
    }

    private async Task SendAsync(SliceRequestKind kind, byte[] body, CancellationToken cancellationToken)
    {
        var frame = new byte[SliceWire.HeaderBytes + body.Length];
        SliceWire.WriteRequestHeader(frame, kind, body.Length);
        body.CopyTo(frame, SliceWire.HeaderBytes);
        await _stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> ReadHeaderAsync(string what, CancellationToken cancellationToken)
    {
        await _stream.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
        if (SliceWire.ReadResponseHeader(_header, out var status, out var length) is { } wrong)
            throw new SliceProtocolException($"slice server {Peer}: {wrong}");
        if (status == SliceResponseStatus.Ok)
            return length;
        var reason = new byte[length];
        await _stream.ReadExactlyAsync(reason, cancellationToken).ConfigureAwait(false);
        throw new SlicePeerRefusedException(status, $"slice server {Peer} has no {what}: {status}: {Encoding.UTF8.GetString(reason)}");
    }

    private static CancellationTokenSource Limit(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        return limit;
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync().ConfigureAwait(false);
}
