using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// One TCP connection of the data plane, carrying the frames of any number of sessions (each frame names its
/// session). Three loops: the socket fills a receive pipe, a parser takes whole frames off it in place and hands them
/// to the owner, and a sender drains a send pipe into the socket. Both pipes pause at named thresholds
/// (<see cref="DataPlaneLimits"/>), so a slow reader at either end slows the writer at the other instead of growing
/// memory. Nagle is off: a decode step is one small frame that must leave now.
/// <para>
/// Writes come from several threads (a node's worker, the liveness timer, the reader answering a bad frame) and take
/// turns; a writer blocks while the send pipe is over its threshold. Any failure closes the connection once, with a
/// reason the owner is told and that names what happened.
/// </para>
/// </summary>
public sealed class FrameConnection : IAsyncDisposable
{
    private static readonly PipeOptions s_receiveOptions = new(
        pauseWriterThreshold: DataPlaneLimits.ReceivePauseBytes, resumeWriterThreshold: DataPlaneLimits.ReceiveResumeBytes, useSynchronizationContext: false);

    private static readonly PipeOptions s_sendOptions = new(
        pauseWriterThreshold: DataPlaneLimits.SendPauseBytes, resumeWriterThreshold: DataPlaneLimits.SendResumeBytes, useSynchronizationContext: false);

    private readonly Socket _socket;
    private readonly Pipe _receive = new(s_receiveOptions);
    private readonly Pipe _send = new(s_sendOptions);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly IFrameHandler _handler;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loops;
    private long _lastReceived = Environment.TickCount64;
    private long _lastSent = Environment.TickCount64;
    private long _bytesSent;
    private long _bytesReceived;
    // Bytes written to the send pipe and not yet handed to the socket (a goodbye waits for them).
    private long _unsent;
    private int _closing;

    private FrameConnection(Socket socket, string remote, IFrameHandler handler)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        Remote = remote;
        _handler = handler;
    }

    /// <summary>The peer's address as host:port.</summary>
    public string Remote { get; }

    /// <summary>The peer's node id from its Hello; "" for a client; null before its Hello arrived.</summary>
    public string? PeerNodeId { get; private set; }

    /// <summary>Names the peer for messages: its node id when known, else its address.</summary>
    public string PeerName => string.IsNullOrEmpty(PeerNodeId) ? Remote : PeerNodeId;

    /// <summary>Set once the connection is closed: why.</summary>
    public string? CloseReason { get; private set; }

    public bool IsClosed => Volatile.Read(ref _closing) != 0;

    /// <summary>Completes when the connection is closed.</summary>
    public Task Closed => _closed.Task;

    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Anything the owner wants to keep with the connection (a node's view of its peer).</summary>
    public object? Tag { get; set; }

    /// <summary>Wraps an accepted socket; call <see cref="Start"/> once the owner is ready for frames.</summary>
    public static FrameConnection Accept(Socket socket, IFrameHandler handler) =>
        new(socket, socket.RemoteEndPoint is System.Net.IPEndPoint ip ? DataEndpoint.Format(ip) : "?", handler);

    /// <summary>
    /// Connects to <paramref name="endpoint"/> (host:port) within <see cref="DataPlaneLimits.ConnectTimeout"/>, proves the
    /// pool's secret when <paramref name="handshake"/> is given (a <see cref="Security.PoolAuthenticationException"/>
    /// names a refusal), and starts the loops.
    /// </summary>
    public static async Task<FrameConnection> ConnectAsync(string endpoint, IFrameHandler handler, CancellationToken cancellation = default,
        Security.PoolHandshake? handshake = null)
    {
        var (host, port) = DataEndpoint.Parse(endpoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(DataPlaneLimits.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            cancellation.ThrowIfCancellationRequested();
            var why = e is OperationCanceledException ? $"no answer within {DataPlaneLimits.ConnectTimeout.TotalSeconds:0} s" : ((SocketException)e).SocketErrorCode.ToString();
            throw new IOException($"cannot connect to {endpoint}: {why}", e);
        }
        if (handshake is not null)
        {
            try
            {
                // The stream only carries the handshake; the socket stays open for the frames.
                await using var stream = new NetworkStream(socket, ownsSocket: false);
                await handshake.ConnectAsync(stream, endpoint, cancellation).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        var connection = new FrameConnection(socket, endpoint, handler);
        connection.Start();
        return connection;
    }

    public void Start() => _loops ??= Task.WhenAll(Task.Run(ReceiveLoopAsync), Task.Run(ParseLoopAsync), Task.Run(SendLoopAsync));

    /// <summary>Sends a frame with the given payload; false when the connection is closed (the frame is dropped).</summary>
    public bool Send(FrameHeader header, ReadOnlySpan<byte> payload, TimeSpan? wait = null)
    {
        if (IsClosed || !EnterWrite(wait))
            return false;
        try
        {
            var bytes = FrameWriter.Write(_send.Writer, header, payload);
            return Flush(bytes);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Sends a Hidden frame, encoding <paramref name="hidden"/> straight into the send buffer; returns its bytes on the wire (0 when closed).</summary>
    public int SendHidden(HiddenStateCodec codec, FrameHeader header, ReadOnlySpan<float> hidden, int dim, HiddenEncoding encoding, bool zstd)
    {
        if (IsClosed || !EnterWrite(null))
            return 0;
        try
        {
            var bytes = codec.WriteFrame(_send.Writer, header, hidden, dim, encoding, zstd);
            return Flush(bytes) ? bytes : 0;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Sends a VerifyHidden frame: the draft block, then the hidden states encoded straight into the send buffer; returns its bytes on the wire (0 when closed).</summary>
    public int SendVerifyHidden(HiddenStateCodec codec, FrameHeader header, ReadOnlySpan<byte> draftBlock, ReadOnlySpan<float> hidden, int dim, HiddenEncoding encoding, bool zstd)
    {
        if (IsClosed || !EnterWrite(null))
            return 0;
        try
        {
            var bytes = codec.WriteVerifyFrame(_send.Writer, header, draftBlock, hidden, dim, encoding, zstd);
            return Flush(bytes) ? bytes : 0;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Sends a Verdict frame.</summary>
    public bool SendVerdict(FrameHeader header, VerdictPayload verdict)
    {
        Span<byte> payload = stackalloc byte[VerdictPayload.Size];
        verdict.WriteTo(payload);
        header.Type = FrameType.Verdict;
        return Send(header, payload);
    }

    /// <summary>Sends a Token frame: the id, then (to a client) the text it released.</summary>
    public bool SendToken(FrameHeader header, int token, string? text)
    {
        var textBytes = text is null ? 0 : Encoding.UTF8.GetByteCount(text);
        Span<byte> small = stackalloc byte[256];
        var rented = 4 + textBytes > small.Length ? ArrayPool<byte>.Shared.Rent(4 + textBytes) : null;
        var payload = rented is null ? small[..(4 + textBytes)] : rented.AsSpan(0, 4 + textBytes);
        try
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload, token);
            if (textBytes > 0)
                Encoding.UTF8.GetBytes(text, payload[4..]);
            header.Type = FrameType.Token;
            return Send(header, payload);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Sends an Error frame; waits at most a second for the send pipe (an error reply is not worth blocking a reader for).</summary>
    public bool SendError(ulong sessionId, long epoch, ChainErrorPayload error) =>
        Send(new FrameHeader(FrameType.Error, sessionId, epoch), error.ToBytes(), TimeSpan.FromSeconds(1));

    /// <summary>Sends this side's Hello: its node id ("" for a client).</summary>
    public bool SendHello(string nodeId, long epoch) =>
        Send(new FrameHeader(FrameType.Hello, 0, epoch), Encoding.UTF8.GetBytes(nodeId));

    /// <summary>
    /// Liveness, called by the owner's timer: closes the connection when nothing arrived within
    /// <see cref="DataPlaneLimits.PeerSilenceLimit"/>, sends a ping when nothing was sent for <see cref="DataPlaneLimits.PingInterval"/>.
    /// </summary>
    public void Tick()
    {
        if (IsClosed)
            return;
        var now = Environment.TickCount64;
        var silent = now - Interlocked.Read(ref _lastReceived);
        if (silent > DataPlaneLimits.PeerSilenceLimit.TotalMilliseconds)
        {
            Close($"{PeerName} sent nothing for {silent / 1000.0:0.0} s (limit {DataPlaneLimits.PeerSilenceLimit.TotalSeconds:0} s): it is gone or hung");
            return;
        }
        if (now - Interlocked.Read(ref _lastSent) >= DataPlaneLimits.PingInterval.TotalMilliseconds)
            Send(new FrameHeader(FrameType.Ping, 0, 0), default, TimeSpan.Zero);
    }

    /// <summary>Closes the connection (once) for <paramref name="reason"/>; the owner's <see cref="IFrameHandler.OnClosed"/> hears it.</summary>
    public void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
            return;
        CloseReason = reason;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
        _send.Reader.CancelPendingRead();
        _receive.Reader.CancelPendingRead();
        try
        {
            _handler.OnClosed(this, reason);
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    /// <summary>Says goodbye (a Close frame, so the peer knows it was on purpose) and closes.</summary>
    public void CloseGracefully(string reason)
    {
        Send(new FrameHeader(FrameType.Close, 0, 0), Encoding.UTF8.GetBytes(reason), TimeSpan.FromMilliseconds(200));
        // Give the sender a moment to put the goodbye on the wire before the socket goes.
        SpinWait.SpinUntil(() => Interlocked.Read(ref _unsent) == 0, 200);
        Close(reason);
    }

    private bool EnterWrite(TimeSpan? wait) => wait is { } w ? _writeGate.Wait(w) : _writeGate.Wait(Timeout.Infinite);

    private bool Flush(int bytes)
    {
        Interlocked.Add(ref _unsent, bytes);
        Interlocked.Exchange(ref _lastSent, Environment.TickCount64);
        var flush = _send.Writer.FlushAsync();
        // Over the pause threshold the flush waits for the sender: this thread waits with it (backpressure).
        var result = flush.IsCompleted ? flush.Result : flush.AsTask().GetAwaiter().GetResult();
        return !result.IsCompleted && !result.IsCanceled;
    }

    private async Task ReceiveLoopAsync()
    {
        var writer = _receive.Writer;
        string? reason = null;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(8192);
                var read = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                // End of stream: the parser says whether it came between frames or in the middle of one.
                if (read == 0)
                    break;
                writer.Advance(read);
                Interlocked.Add(ref _bytesReceived, read);
                Interlocked.Exchange(ref _lastReceived, Environment.TickCount64);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                    break;
            }
        }
        catch (SocketException e)
        {
            reason = $"connection to {PeerName} failed: {e.SocketErrorCode}";
        }
        catch (ObjectDisposedException)
        {
        }
        await writer.CompleteAsync().ConfigureAwait(false);
        if (reason is not null)
            Close(reason);
    }

    private async Task ParseLoopAsync()
    {
        var reader = _receive.Reader;
        string? reason = null;
        try
        {
            while (!IsClosed)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                    break;
                var buffer = result.Buffer;
                var broken = false;
                while (true)
                {
                    var status = FrameParser.TryRead(ref buffer, DataPlaneLimits.MaxPayloadBytes, out var frame, out var rejection, out var header);
                    if (status == ParseStatus.NeedMore)
                        break;
                    if (status == ParseStatus.Broken)
                    {
                        reason = rejection != FrameRejection.BadMagic
                            ? $"{PeerName} sent a frame header with impossible lengths (payload {header.PayloadLength} B, limit {DataPlaneLimits.MaxPayloadBytes} B)"
                            : Security.PoolHandshake.IsChallenge(buffer)
                                ? $"{PeerName} belongs to a pool with a secret and sent its challenge: give --pool-secret (or EDGENODE_POOL_SECRET)"
                                : $"{PeerName} sent bytes that are not a data-plane frame (bad magic): not an EdgeNode peer, or out of step";
                        _handler.OnRejected(this, header, rejection);
                        broken = true;
                        break;
                    }
                    if (status == ParseStatus.Skipped)
                    {
                        _handler.OnRejected(this, header, rejection);
                        continue;
                    }
                    switch (frame.Header.Type)
                    {
                        case FrameType.Ping:
                            continue;
                        case FrameType.Hello:
                            PeerNodeId = Encoding.UTF8.GetString(frame.Payload);
                            break;
                        case FrameType.Close:
                            reason = $"{PeerName} closed the connection: {Encoding.UTF8.GetString(frame.Payload)}";
                            broken = true;
                            break;
                    }
                    if (broken)
                        break;
                    await _handler.OnFrameAsync(this, frame).ConfigureAwait(false);
                }
                if (broken)
                    break;
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                        reason = $"{PeerName} closed the connection in the middle of a frame ({buffer.Length} bytes of it arrived)";
                    break;
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
        {
            reason = $"reading from {PeerName} failed: {e.Message}";
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        Close(reason ?? CloseReason ?? $"{PeerName} closed the connection");
    }

    private async Task SendLoopAsync()
    {
        var reader = _send.Reader;
        string? reason = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                    break;
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    var remaining = segment;
                    while (!remaining.IsEmpty)
                    {
                        var sent = await _socket.SendAsync(remaining, SocketFlags.None).ConfigureAwait(false);
                        remaining = remaining[sent..];
                        Interlocked.Add(ref _bytesSent, sent);
                        Interlocked.Add(ref _unsent, -sent);
                    }
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (SocketException e)
        {
            reason = $"sending to {PeerName} failed: {e.SocketErrorCode}";
        }
        catch (ObjectDisposedException)
        {
        }
        await reader.CompleteAsync().ConfigureAwait(false);
        if (reason is not null)
            Close(reason);
    }

    public async ValueTask DisposeAsync()
    {
        Close("disposed");
        if (_loops is not null)
        {
            try { await _loops.ConfigureAwait(false); } catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { }
        }
        _writeGate.Dispose();
    }
}
