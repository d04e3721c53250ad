namespace EdgeNode.Pool.Membership;

/// <summary>How a node (or an observer such as `pool status`) connects to its pool's broker.</summary>
public sealed record MembershipOptions
{
    public required string Pool { get; init; }

    public required BrokerAddress Broker { get; init; }

    /// <summary>Overrides the credentials of <see cref="Broker"/> when set.</summary>
    public string? UserName { get; init; }

    public string? Password { get; init; }

    /// <summary>TLS only: accept a broker certificate no local authority vouches for (a pool's self-signed broker).</summary>
    public bool AllowUntrustedCertificates { get; init; }

    public TimeSpan HeartbeatInterval { get; init; } = PoolProtocol.DefaultHeartbeatInterval;

    public int HeartbeatMissLimit { get; init; } = PoolProtocol.DefaultHeartbeatMissLimit;

    public TimeSpan KeepAlive { get; init; } = PoolProtocol.DefaultKeepAlive;

    public TimeSpan ReconnectMin { get; init; } = PoolProtocol.DefaultReconnectMin;

    public TimeSpan ReconnectMax { get; init; } = PoolProtocol.DefaultReconnectMax;

    /// <summary>How long one connection attempt may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
