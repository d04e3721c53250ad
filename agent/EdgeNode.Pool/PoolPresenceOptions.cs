using EdgeNode.Pool.Membership;

namespace EdgeNode.Pool;

/// <summary>What `edgenode serve --pool NAME [--broker URL|embedded]` needs to put a node in its pool.</summary>
public sealed record PoolPresenceOptions
{
    /// <summary>The value of --broker for "host the broker in this process".</summary>
    public const string Embedded = "embedded";

    public required string Pool { get; init; }

    /// <summary>`embedded`, an mqtt:// or mqtts:// URL, or null to find the pool's broker by mDNS.</summary>
    public string? Broker { get; init; }

    /// <summary>Port of the embedded broker.</summary>
    public int EmbeddedPort { get; init; } = PoolProtocol.DefaultBrokerPort;

    /// <summary>Address the embedded broker binds: every IPv4 address by default, since the other boards connect over the LAN.</summary>
    public System.Net.IPAddress EmbeddedBindAddress { get; init; } = System.Net.IPAddress.Any;

    /// <summary>Credentials: the embedded broker demands them; a client presents them (a URL's own win).</summary>
    public string? UserName { get; init; }

    public string? Password { get; init; }

    /// <summary>Answer mDNS for the pool when this node hosts or was told the broker (off: the operator forbids multicast).</summary>
    public bool Advertise { get; init; } = true;

    public TimeSpan DiscoveryTimeout { get; init; } = Discovery.MdnsBrowser.DefaultTimeout;

    /// <summary>Heartbeat, reconnect and TLS settings; Pool and Broker are filled in.</summary>
    public MembershipOptions? Membership { get; init; }
}
