using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace EdgeNode.Pool.Security;

/// <summary>
/// Proves, on a fresh TCP connection, that both ends know the pool's secret, without sending it: the listener sends a
/// random challenge, the connecting side answers with its own challenge and an HMAC-SHA256 over both under the pool
/// key, and the listener answers with its HMAC over both in the other order (mutual: a stranger can neither connect nor
/// pose as a peer). The key is HMAC-SHA256(secret, "edgenode-pool-key/1" + pool), so one secret reused for two pools
/// gives two keys. A wrong or missing answer is refused with a reason the listener logs and the other end reads.
/// Wire (pool-operators.md, "Pool secret"): hello `ENAH` v1 nonce[32]; proof `ENAP` v1 nonce[32] mac[32]; answer
/// `ENAR` 0 mac[32], or `ENAR` 1 length[2, LE] reason.
/// </summary>
public sealed class PoolHandshake
{
    /// <summary>Shorter than a fetch's connect timeout (5 s), so a silent peer is named as one without the handshake.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private const byte Version = 1;
    private const int NonceBytes = 32;
    private const int MacBytes = 32;
    private static readonly byte[] s_hello = "ENAH"u8.ToArray();
    private static readonly byte[] s_proof = "ENAP"u8.ToArray();
    private static readonly byte[] s_answer = "ENAR"u8.ToArray();

    private readonly byte[] _key;

    public PoolHandshake(string pool, string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        _key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes("edgenode-pool-key/1" + pool));
    }

    /// <summary>Whether <paramref name="received"/> starts with a listener's challenge: a peer that expected frames met a pool with a secret.</summary>
    public static bool IsChallenge(in ReadOnlySequence<byte> received)
    {
        if (received.Length < s_hello.Length)
            return false;
        Span<byte> head = stackalloc byte[4];
        received.Slice(0, head.Length).CopyTo(head);
        return head.SequenceEqual(s_hello);
    }

    /// <summary>The listening side. Returns null when the peer proved the secret, else the reason (already sent to the peer).</summary>
    public async ValueTask<string?> AcceptAsync(Stream stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Timeout);
        var hello = new byte[5 + NonceBytes];
        s_hello.CopyTo(hello, 0);
        hello[4] = Version;
        RandomNumberGenerator.Fill(hello.AsSpan(5));
        var proof = new byte[5 + NonceBytes + MacBytes];
        try
        {
            await stream.WriteAsync(hello, limit.Token).ConfigureAwait(false);
            await stream.ReadExactlyAsync(proof, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer to the pool challenge within {Timeout.TotalSeconds:F0} s (the peer runs without --pool-secret?)";
        }
        catch (EndOfStreamException)
        {
            return "the peer closed the connection instead of answering the pool challenge";
        }
        string? refusal = null;
        if (!proof.AsSpan(0, 4).SequenceEqual(s_proof) || proof[4] != Version)
            refusal = "the peer did not answer the pool challenge (it runs without --pool-secret, or another protocol)";
        else if (!CryptographicOperations.FixedTimeEquals(Mac("client", hello.AsSpan(5), proof.AsSpan(5, NonceBytes)), proof.AsSpan(5 + NonceBytes)))
            refusal = "the peer's answer does not prove this pool's secret (a different --pool-secret)";
        if (refusal is not null)
        {
            await RefuseAsync(stream, refusal, limit.Token).ConfigureAwait(false);
            return refusal;
        }
        var answer = new byte[5 + MacBytes];
        s_answer.CopyTo(answer, 0);
        answer[4] = 0;
        Mac("server", proof.AsSpan(5, NonceBytes), hello.AsSpan(5)).CopyTo(answer, 5);
        await stream.WriteAsync(answer, limit.Token).ConfigureAwait(false);
        return null;
    }

    /// <summary>The connecting side; throws <see cref="PoolAuthenticationException"/> naming what went wrong.</summary>
    public async ValueTask ConnectAsync(Stream stream, string peer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Timeout);
        try
        {
            var hello = new byte[5 + NonceBytes];
            await stream.ReadExactlyAsync(hello, limit.Token).ConfigureAwait(false);
            if (!hello.AsSpan(0, 4).SequenceEqual(s_hello) || hello[4] != Version)
                throw new PoolAuthenticationException($"{peer} sent no pool challenge: it runs without --pool-secret (or is not an edgenode pool port)");
            var proof = new byte[5 + NonceBytes + MacBytes];
            s_proof.CopyTo(proof, 0);
            proof[4] = Version;
            RandomNumberGenerator.Fill(proof.AsSpan(5, NonceBytes));
            Mac("client", hello.AsSpan(5), proof.AsSpan(5, NonceBytes)).CopyTo(proof, 5 + NonceBytes);
            await stream.WriteAsync(proof, limit.Token).ConfigureAwait(false);
            var head = new byte[5];
            await stream.ReadExactlyAsync(head, limit.Token).ConfigureAwait(false);
            if (!head.AsSpan(0, 4).SequenceEqual(s_answer))
                throw new PoolAuthenticationException($"{peer} answered the pool handshake with something else");
            if (head[4] != 0)
            {
                var length = new byte[2];
                await stream.ReadExactlyAsync(length, limit.Token).ConfigureAwait(false);
                var reason = new byte[Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(length), (ushort)1024)];
                await stream.ReadExactlyAsync(reason, limit.Token).ConfigureAwait(false);
                throw new PoolAuthenticationException($"{peer} refused this node: {Encoding.UTF8.GetString(reason)}");
            }
            var mac = new byte[MacBytes];
            await stream.ReadExactlyAsync(mac, limit.Token).ConfigureAwait(false);
            if (!CryptographicOperations.FixedTimeEquals(Mac("server", proof.AsSpan(5, NonceBytes), hello.AsSpan(5)), mac))
                throw new PoolAuthenticationException($"{peer} does not know this pool's secret: refusing to talk to it");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PoolAuthenticationException($"{peer} did not complete the pool handshake within {Timeout.TotalSeconds:F0} s (it runs without --pool-secret?)");
        }
        catch (EndOfStreamException)
        {
            throw new PoolAuthenticationException($"{peer} closed the connection during the pool handshake");
        }
    }

    /// <summary>A connector for <see cref="Slices.SliceFetchOptions.Connect"/>: plain TCP, then <see cref="ConnectAsync"/>.</summary>
    public Func<EndPoint, CancellationToken, ValueTask<Stream>> Connector() => async (peer, cancellationToken) =>
    {
        var stream = await Slices.SliceClient.ConnectTcpAsync(peer, cancellationToken).ConfigureAwait(false);
        try
        {
            await ConnectAsync(stream, peer.ToString() ?? "peer", cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    };

    private byte[] Mac(string role, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var role8 = Encoding.ASCII.GetBytes(role);
        var data = new byte[role8.Length + first.Length + second.Length];
        role8.CopyTo(data, 0);
        first.CopyTo(data.AsSpan(role8.Length));
        second.CopyTo(data.AsSpan(role8.Length + first.Length));
        return HMACSHA256.HashData(_key, data);
    }

    private static async ValueTask RefuseAsync(Stream stream, string reason, CancellationToken cancellationToken)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        var frame = new byte[7 + text.Length];
        s_answer.CopyTo(frame, 0);
        frame[4] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(frame.AsSpan(5), (ushort)text.Length);
        text.CopyTo(frame, 7);
        try
        {
            await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException)
        {
            // the peer is gone already; the refusal is logged on this side anyway
        }
    }
}
