using System.Net;
using EdgeNode.Pool.Membership;

namespace EdgeNode.Pool.Broker;

/// <summary>`--broker embedded`: where the in-process broker listens and whom it lets in.</summary>
public sealed record EmbeddedBrokerOptions
{
    /// <summary>TCP port; 1883 (MQTT's registered port) unless another broker already has it.</summary>
    public int Port { get; init; } = PoolProtocol.DefaultBrokerPort;

    /// <summary>Address to bind; every IPv4 address by default, because the other boards connect over the LAN.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>When set, clients must present this user name and <see cref="Password"/>.</summary>
    public string? UserName { get; init; }

    public string? Password { get; init; }
}
