using System.Net;
using EdgeNode.Pool.Broker;
using EdgeNode.Pool.Discovery;
using EdgeNode.Pool.Membership;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Pool;

/// <summary>
/// Everything a node runs to be in its pool: the embedded broker (with `--broker embedded`), the mDNS answer that
/// lets other nodes find the broker (when this node hosts or was told it), and the <see cref="PoolNode"/> itself.
/// Disposing leaves gracefully and stops them in reverse order.
/// </summary>
public sealed class PoolPresence : IAsyncDisposable
{
    private PoolPresence(PoolNode node, BrokerAddress broker, EmbeddedBroker? embedded, MdnsAdvertiser? advertiser)
    {
        Node = node;
        Broker = broker;
        EmbeddedBroker = embedded;
        Advertiser = advertiser;
    }

    public PoolNode Node { get; }

    /// <summary>The broker this node uses (for a discovered broker: what mDNS answered).</summary>
    public BrokerAddress Broker { get; }

    public EmbeddedBroker? EmbeddedBroker { get; }

    public MdnsAdvertiser? Advertiser { get; }

    public static async Task<PoolPresence> StartAsync(PoolPresenceOptions options, NodeState state, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        PoolProtocol.RequireValidName(options.Pool, "pool");
        EmbeddedBroker? embedded = null;
        MdnsAdvertiser? advertiser = null;
        BrokerAddress broker;
        var advertise = options.Advertise;
        try
        {
            if (options.Broker == PoolPresenceOptions.Embedded)
            {
                embedded = await EmbeddedBroker.StartAsync(new EmbeddedBrokerOptions
                {
                    Port = options.EmbeddedPort, BindAddress = options.EmbeddedBindAddress, UserName = options.UserName, Password = options.Password,
                }, cancellationToken).ConfigureAwait(false);
                // This node reaches its own broker over loopback; the advertiser tells the others this node's LAN address.
                var bound = options.EmbeddedBindAddress.Equals(IPAddress.Any) ? IPAddress.Loopback : options.EmbeddedBindAddress;
                broker = new BrokerAddress(bound.ToString(), options.EmbeddedPort);
            }
            else if (options.Broker is not null)
            {
                broker = BrokerAddress.Parse(options.Broker);
            }
            else
            {
                broker = await BrokerLocator.ResolveAsync(options.Pool, null, options.DiscoveryTimeout, cancellationToken).ConfigureAwait(false);
                advertise = false;   // the node that told us answers already
            }
            if (advertise)
                advertiser = new MdnsAdvertiser(options.Pool, broker, logger);

            var membership = (options.Membership ?? new MembershipOptions { Pool = options.Pool, Broker = broker }) with
            {
                Pool = options.Pool,
                Broker = broker,
                UserName = options.UserName,
                Password = options.Password,
            };
            var node = new PoolNode(membership, state, logger);
            try
            {
                await node.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await node.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            return new PoolPresence(node, broker, embedded, advertiser);
        }
        catch
        {
            if (advertiser is not null)
                await advertiser.DisposeAsync().ConfigureAwait(false);
            if (embedded is not null)
                await embedded.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Leaves the pool gracefully (leaving, then the state is cleared), then stops advertising and the broker.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Node.LeaveAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException
                                      or MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Exceptions.MqttClientNotConnectedException)
        {
            // The broker is gone: the last will says offline instead.
        }
        await Node.DisposeAsync().ConfigureAwait(false);
        if (Advertiser is not null)
            await Advertiser.DisposeAsync().ConfigureAwait(false);
        if (EmbeddedBroker is not null)
            await EmbeddedBroker.DisposeAsync().ConfigureAwait(false);
    }
}
