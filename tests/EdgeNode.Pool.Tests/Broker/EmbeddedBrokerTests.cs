using System.Net;
using EdgeNode.Pool.Broker;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests.Broker;

public sealed class EmbeddedBrokerTests
{
    [Fact]
    public async Task With_credentials_set_only_clients_that_present_them_get_in()
    {
        var port = EdgeNode.TestSupport.MosquittoBroker.FreePort();
        await using var broker = await EmbeddedBroker.StartAsync(new EmbeddedBrokerOptions
        {
            Port = port, BindAddress = IPAddress.Loopback, UserName = "pool", Password = "s3cret",
        });
        var pool = Nodes.UniquePool();
        await using var stranger = new PoolMembership(Nodes.Options(pool, port), "stranger");
        var error = await Assert.ThrowsAsync<IOException>(() => stranger.StartAsync(Nodes.State("stranger", 4000)));
        Assert.Contains($"mqtt://127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused this login", error.Message, StringComparison.Ordinal);
        Assert.Contains("--pool-secret", error.Message, StringComparison.Ordinal);

        await using var member = new PoolMembership(Nodes.Options(pool, port) with { Broker = BrokerAddress.Parse($"mqtt://pool:s3cret@127.0.0.1:{port}") }, "member");
        await member.StartAsync(Nodes.State("member", 4000));
        await member.WaitForAsync(v => v.Node("member") is not null, Nodes.Wait, "its own state back");
        Assert.Equal(1, await broker.ClientCountAsync());
    }

    [Fact]
    public async Task A_taken_port_is_reported_by_number()
    {
        using var mosquitto = new RestartableMosquitto();
        var e = await Assert.ThrowsAsync<IOException>(() => EmbeddedBroker.StartAsync(new EmbeddedBrokerOptions { Port = mosquitto.Port, BindAddress = IPAddress.Loopback }));
        Assert.Contains($":{mosquitto.Port}", e.Message, StringComparison.Ordinal);
    }
}
