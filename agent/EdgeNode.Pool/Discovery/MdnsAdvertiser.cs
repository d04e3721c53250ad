using System.Net;
using System.Net.Sockets;
using EdgeNode.Pool.Membership;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgeNode.Pool.Discovery;

/// <summary>
/// Answers mDNS queries for `_edgenode._tcp.local` with this pool's broker (PTR → instance, SRV, TXT pool= broker=
/// v=, A), so a node started with only `--pool NAME` finds it. Run by the node that hosts the broker or was told
/// where it is. Sockets are made in the constructor, so they belong to the network namespace of the thread that
/// constructs it.
/// </summary>
public sealed partial class MdnsAdvertiser : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly string _pool;
    private readonly BrokerAddress _broker;
    private readonly string _host;
    private readonly IReadOnlyList<(int Index, IPAddress Address, bool Loopback)> _interfaces;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="pool">The pool advertised.</param>
    /// <param name="broker">The broker's address; an unspecified (0.0.0.0) or loopback host is replaced in each answer
    /// by this node's address on the interface the query came in on.</param>
    public MdnsAdvertiser(string pool, BrokerAddress broker, ILogger? logger = null)
    {
        PoolProtocol.RequireValidName(pool, "pool");
        _pool = pool;
        _broker = broker with { UserName = null, Password = null };   // never advertise credentials
        _logger = logger ?? NullLogger.Instance;
        _host = $"edgenode-{pool}-{Environment.ProcessId}";
        _interfaces = MdnsService.Interfaces();
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Other responders (avahi, a second pool) may hold 5353 too: mDNS is shared by design.
            _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
            _socket.Bind(new IPEndPoint(IPAddress.Any, MdnsService.Group.Port));
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 255);
            _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
            var joined = 0;
            foreach (var (index, _, _) in _interfaces)
            {
                try
                {
                    _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(MdnsService.Group.Address, index));
                    joined++;
                }
                catch (SocketException)
                {
                    // An interface without multicast (or already joined): the others still answer.
                }
            }
            if (joined == 0)
                _socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(MdnsService.Group.Address));
        }
        catch (SocketException e)
        {
            _socket.Dispose();
            throw new IOException($"cannot advertise pool '{pool}' by mDNS: UDP port 5353 or group 224.0.0.251 is not available here ({e.Message})", e);
        }
        _loop = Task.Run(() => AnswerLoopAsync(_stop.Token));
    }

    /// <summary>Queries answered so far (tests and status read it).</summary>
    public int Answered { get; private set; }

    private async Task AnswerLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[9000];
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveMessageFromResult received;
            try
            {
                received = await _socket.ReceiveMessageFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.MessageSize or SocketError.ConnectionReset)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            DnsMessage query;
            try
            {
                query = DnsMessage.Decode(buffer.AsSpan(0, received.ReceivedBytes));
            }
            catch (FormatException e)
            {
                AdvertiserLog.BadQuery(_logger, received.RemoteEndPoint.ToString() ?? "?", e.Message);
                continue;
            }
            if (query.IsResponse || !query.Questions.Any(Asks))
                continue;
            var from = (IPEndPoint)received.RemoteEndPoint;
            var local = LocalAddress(received.PacketInformation.Interface, from.Address);
            var legacy = from.Port != MdnsService.Group.Port;
            var querierIsLocal = IPAddress.IsLoopback(from.Address) || _interfaces.Any(i => i.Address.Equals(from.Address));
            var answer = Answer(query, local, querierIsLocal, legacy);
            try
            {
                // A one-shot querier (any source port but 5353) gets a unicast reply carrying its question and id
                // (RFC 6762 §6.7); a full responder's query is answered on the group.
                var to = legacy || query.Questions.Any(q => q.UnicastResponse) ? from : MdnsService.Group;
                Answered++;
                await _socket.SendToAsync(answer.Encode(), SocketFlags.None, to, cancellationToken).ConfigureAwait(false);
                AdvertiserLog.Answered(_logger, from.ToString(), _pool);
            }
            catch (SocketException e)
            {
                AdvertiserLog.SendFailed(_logger, from.ToString(), e.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private bool Asks(DnsQuestion q) =>
        (q.Type is DnsType.Ptr or DnsType.Any && string.Equals(q.Name, MdnsService.ServiceType, StringComparison.OrdinalIgnoreCase))
        || (q.Type is DnsType.Srv or DnsType.Txt or DnsType.Any && string.Equals(q.Name, MdnsService.InstanceName(_pool), StringComparison.OrdinalIgnoreCase));

    private DnsMessage Answer(DnsMessage query, IPAddress local, bool querierIsLocal, bool legacy)
    {
        var instance = MdnsService.InstanceName(_pool);
        var host = _host + ".local";
        // A broker on every address, or on this host's loopback, is reached from the link at this node's own
        // address; a querier on this very host can use loopback.
        var loopbackBroker = _broker.Host is "localhost" || (IPAddress.TryParse(_broker.Host, out var ip) && IPAddress.IsLoopback(ip));
        var unspecified = _broker.Host is "0.0.0.0" or "::" or "*" or "";
        var brokerHost = loopbackBroker && querierIsLocal ? _broker.Host
                       : unspecified || loopbackBroker ? local.ToString()
                       : _broker.Host;
        var broker = _broker with { Host = brokerHost };
        // Legacy unicast replies must not set cache-flush and should keep TTLs short (RFC 6762 §6.7).
        var ttl = legacy ? Math.Min(MdnsService.Ttl, 10u) : MdnsService.Ttl;
        DnsRecord[] records =
        [
            new(MdnsService.ServiceType, DnsType.Ptr, ttl) { Target = instance },
            new(instance, DnsType.Srv, ttl) { Target = host, Port = (ushort)broker.Port, CacheFlush = !legacy },
            new(instance, DnsType.Txt, ttl) { Text = [$"pool={_pool}", $"broker={broker}", $"v={PoolProtocol.Version}"], CacheFlush = !legacy },
            new(host, DnsType.A, ttl) { Address = local, CacheFlush = !legacy },
        ];
        return new DnsMessage(legacy ? query.Id : (ushort)0, true, legacy ? query.Questions : [], records);
    }

    private IPAddress LocalAddress(int interfaceIndex, IPAddress remote)
    {
        foreach (var (index, address, _) in _interfaces)
            if (index == interfaceIndex) return address;
        foreach (var (_, address, loopback) in _interfaces)
            if (!loopback) return address;
        return IPAddress.IsLoopback(remote) ? IPAddress.Loopback : remote;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _loop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private static partial class AdvertiserLog
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Ignored mDNS datagram from {From}: {Reason}")]
        public static partial void BadQuery(ILogger logger, string from, string reason);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Answered mDNS query from {From} for pool {Pool}")]
        public static partial void Answered(ILogger logger, string from, string pool);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "mDNS answer to {From} failed: {Reason}")]
        public static partial void SendFailed(ILogger logger, string from, string reason);
    }
}
