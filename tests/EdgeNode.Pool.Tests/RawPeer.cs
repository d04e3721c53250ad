using System.Buffers;
using System.Net.Sockets;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Tests;

/// <summary>A bare TCP peer that writes whatever bytes a test wants (including broken frames) and reads frames back.</summary>
public sealed class RawPeer : IDisposable
{
    private readonly Socket _socket = new(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _filled;

    private RawPeer() { }

    public static async Task<RawPeer> ConnectAsync(string endpoint)
    {
        var peer = new RawPeer();
        var (host, port) = DataEndpoint.Parse(endpoint);
        await peer._socket.ConnectAsync(host, port).WaitAsync(TimeSpan.FromSeconds(5));
        return peer;
    }

    /// <summary>A whole, valid frame's bytes.</summary>
    public static byte[] Frame(FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.Write(writer, header, payload);
        return writer.WrittenSpan.ToArray();
    }

    public Task SendAsync(byte[] bytes) => _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>
    /// Waits for the node's Hello, so nothing unread is left in this socket when it closes (Linux answers a close
    /// with unread data by a reset, and the test wants an orderly end of stream).
    /// </summary>
    public async Task ExpectHelloAsync()
    {
        var (header, _) = await ReadFrameAsync(skipHello: false);
        Assert.Equal(FrameType.Hello, header.Type);
    }

    /// <summary>The next frame that is not a Hello or Ping, within 5 s.</summary>
    public async Task<(FrameHeader Header, byte[] Payload)> ReadFrameAsync(bool skipHello = true)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            var sequence = new ReadOnlySequence<byte>(_buffer, 0, _filled);
            var status = FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out var frame, out var rejection, out _);
            if (status == ParseStatus.Frame)
            {
                var result = (frame.Header, frame.Payload.ToArray());
                var consumed = _filled - (int)sequence.Length;
                Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _filled - consumed);
                _filled -= consumed;
                if (result.Header.Type == FrameType.Ping || result.Header.Type == FrameType.Hello && skipHello)
                    continue;
                return result;
            }
            Assert.True(status == ParseStatus.NeedMore, $"the node sent an unreadable frame: {rejection}");
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, timeout.Token);
            Assert.True(read > 0, "the node closed the connection instead of answering");
            _filled += read;
        }
    }

    public async Task<ChainErrorPayload> ReadErrorAsync()
    {
        var (header, payload) = await ReadFrameAsync();
        Assert.Equal(FrameType.Error, header.Type);
        return ChainErrorPayload.Read(payload);
    }

    public void Dispose() => _socket.Dispose();
}
