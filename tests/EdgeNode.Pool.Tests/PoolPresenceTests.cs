using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests;

/// <summary>Two nodes, nothing else: one hosts the broker (`--broker embedded`) and advertises it, the other has only the pool's name.</summary>
[Collection("mdns")]
public sealed class PoolPresenceTests
{
    [Fact]
    public async Task A_node_with_only_the_pool_name_finds_the_embedded_broker_and_they_plan_together()
    {
        var pool = Nodes.UniquePool();
        var port = EdgeNode.TestSupport.MosquittoBroker.FreePort();
        var fast = Nodes.Options(pool, port);
        await using var host = await PoolPresence.StartAsync(
            // Bound to loopback: the test exposes nothing on the host's network. The advertiser answers a querier on
            // this same host with the loopback address.
            new PoolPresenceOptions { Pool = pool, Broker = PoolPresenceOptions.Embedded, EmbeddedPort = port, EmbeddedBindAddress = System.Net.IPAddress.Loopback, Membership = fast },
            Nodes.State("n1", 4000));
        await using var joiner = await PoolPresence.StartAsync(
            new PoolPresenceOptions { Pool = pool, Broker = null, Membership = fast },
            Nodes.State("n2", 4000));

        Assert.Equal(new BrokerAddress("127.0.0.1", port), joiner.Broker);
        Assert.NotNull(host.Advertiser);
        Assert.Null(joiner.Advertiser);
        var view = await joiner.Node.Membership.WaitForAsync(v => v.Plans.TryGetValue("stories260K", out var p) && p.Plan.Assignments.Count == 2,
            Nodes.Wait, "a plan over both nodes");
        Assert.Equal("n1", view.Plans["stories260K"].Leader);
        Assert.Equal(2, await host.EmbeddedBroker!.ClientCountAsync());
    }
}
