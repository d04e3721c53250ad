using System.Net;
using System.Net.Sockets;
using EdgeNode.Pool.Membership;

namespace EdgeNode.Pool.Discovery;

/// <summary>A pool's broker as an mDNS answer described it.</summary>
public sealed record DiscoveredBroker(string Pool, BrokerAddress Broker, IPEndPoint Responder, int ProtocolVersion);

/// <summary>
/// Finds a pool's broker on the local link: sends one-shot mDNS queries (RFC 6762 §5.1) for `_edgenode._tcp.local`
/// from an ephemeral port, repeating each second, and takes the first answer whose TXT says pool=NAME. The socket
/// is made in the constructor (in the calling thread's network namespace).
/// </summary>
public sealed class MdnsBrowser : IDisposable
{
    /// <summary>How long a node started with `--pool NAME` and no `--broker` looks before giving up.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan Resend = TimeSpan.FromSeconds(1);

    private readonly Socket _socket;
    private readonly IReadOnlyList<(int Index, IPAddress Address, bool Loopback)> _interfaces;

    public MdnsBrowser()
    {
        _interfaces = MdnsService.Interfaces();
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255);
        _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
    }

    /// <summary>Answers seen that were for other pools or unusable, for the error message.</summary>
    public IReadOnlyList<string> OtherAnswers => _others;

    private readonly List<string> _others = [];

    /// <summary>Returns the broker of <paramref name="pool"/>, or throws IOException naming the pool when nothing answers in time.</summary>
    public async Task<DiscoveredBroker> FindAsync(string pool, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        PoolProtocol.RequireValidName(pool, "pool");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var id = (ushort)Random.Shared.Next(1, ushort.MaxValue);
        var query = new DnsMessage(id, false, [new DnsQuestion(MdnsService.ServiceType, DnsType.Ptr)], []).Encode();
        var buffer = new byte[9000];
        var nextSend = DateTimeOffset.MinValue;
        try
        {
            while (true)
            {
                if (DateTimeOffset.UtcNow >= nextSend)
                {
                    await SendAsync(query, deadline.Token).ConfigureAwait(false);
                    nextSend = DateTimeOffset.UtcNow + Resend;
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                wait.CancelAfter(Resend);
                SocketReceiveFromResult received;
                try
                {
                    received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                    continue;   // resend
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
                {
                    continue;
                }
                var found = Read(pool, buffer.AsSpan(0, received.ReceivedBytes), (IPEndPoint)received.RemoteEndPoint);
                if (found is not null)
                    return found;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var others = _others.Count == 0 ? "no EdgeNode broker answered at all" : "answers came only from: " + string.Join("; ", _others.Distinct());
            throw new IOException($"no broker for pool '{pool}' answered mDNS (_edgenode._tcp.local) within {timeout.TotalSeconds:0.#} s ({others}). "
                                  + $"Start a node of pool '{pool}' with --broker embedded (or with --broker URL, which it then advertises), "
                                  + "or give --broker mqtt://HOST:1883; mDNS needs UDP 5353 and multicast to cross the network");
        }
    }

    private async Task SendAsync(byte[] query, CancellationToken cancellationToken)
    {
        var sent = false;
        foreach (var (_, address, loopback) in _interfaces)
        {
            if (loopback)
                continue;
            try
            {
                // Out of every multicast interface: a board may sit on several links and the broker on any of them.
                _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, address.GetAddressBytes());
                await _socket.SendToAsync(query, SocketFlags.None, MdnsService.Group, cancellationToken).ConfigureAwait(false);
                sent = true;
            }
            catch (SocketException)
            {
                // No route on that interface: the others may have one.
            }
        }
        if (!sent)
        {
            try
            {
                _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
                await _socket.SendToAsync(query, SocketFlags.None, MdnsService.Group, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // Nothing can carry multicast here; the timeout explains.
            }
        }
    }

    private DiscoveredBroker? Read(string pool, ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        DnsMessage message;
        try
        {
            message = DnsMessage.Decode(datagram);
        }
        catch (FormatException e)
        {
            _others.Add($"{from}: malformed ({e.Message})");
            return null;
        }
        if (!message.IsResponse)
            return null;
        foreach (var txt in message.Answers.Where(a => a.Type == DnsType.Txt && a.Name.EndsWith(MdnsService.ServiceType, StringComparison.OrdinalIgnoreCase)))
        {
            var fields = txt.Text.Select(t => t.Split('=', 2)).Where(kv => kv.Length == 2).GroupBy(kv => kv[0], StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.OrdinalIgnoreCase);
            fields.TryGetValue("pool", out var answeredPool);
            if (answeredPool != pool)
            {
                _others.Add($"pool '{answeredPool}' at {from.Address}");
                continue;
            }
            if (!fields.TryGetValue("v", out var v) || !int.TryParse(v, out var version) || version != PoolProtocol.Version)
            {
                _others.Add($"pool '{pool}' at {from.Address} with protocol version '{v}', this node speaks {PoolProtocol.Version}");
                continue;
            }
            if (!fields.TryGetValue("broker", out var url))
            {
                _others.Add($"pool '{pool}' at {from.Address} without a broker= field");
                continue;
            }
            try
            {
                return new DiscoveredBroker(pool, BrokerAddress.Parse(url), from, version);
            }
            catch (ArgumentException e)
            {
                _others.Add($"pool '{pool}' at {from.Address}: {e.Message}");
            }
        }
        return null;
    }

    public void Dispose() => _socket.Dispose();
}
