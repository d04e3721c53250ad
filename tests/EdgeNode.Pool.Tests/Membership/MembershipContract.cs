using System.Text;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests.Membership;

/// <summary>
/// What the membership must do over any broker. Each test makes its own pool name, so tests never see each
/// other's retained messages. Runs against a real mosquitto and against the embedded MQTTnet broker.
/// </summary>
public abstract class MembershipContract
{
    protected abstract Task<ITestBroker> StartBrokerAsync();

    [Fact]
    public async Task States_are_retained_for_nodes_that_subscribe_later()
    {
        await using var broker = await StartBrokerAsync();
        var pool = Nodes.UniquePool();
        await using var a = new PoolMembership(Nodes.Options(pool, broker.Port), "node-a");
        await a.StartAsync(Nodes.State("node-a", 4000));
        await using var b = new PoolMembership(Nodes.Options(pool, broker.Port), "node-b");
        await b.StartAsync(Nodes.State("node-b", 6000));

        await using var late = new PoolMembership(Nodes.Options(pool, broker.Port), null);
        await late.StartAsync(null);
        var view = await late.WaitForAsync(v => v.Nodes.Count == 2, Nodes.Wait, "both states");
        Assert.Equal(["node-a", "node-b"], view.Nodes.Select(n => n.State.NodeId));
        Assert.Equal(6000, view.Node("node-b")!.State.WeightsMaxBytes);
        Assert.All(view.Nodes, n => Assert.True(n.Alive));
        Assert.Equal("node-a", view.Leader);
    }

    [Fact]
    public async Task A_node_that_dies_without_goodbye_is_marked_offline_by_its_last_will()
    {
        await using var broker = await StartBrokerAsync();
        var pool = Nodes.UniquePool();
        await using var watcher = new PoolMembership(Nodes.Options(pool, broker.Port), null);
        await watcher.StartAsync(null);
        // The dying node reaches the broker through a relay the test cuts: the broker sees the TCP connection reset
        // with no DISCONNECT packet, exactly as when a board loses power.
        using var cable = new TcpProxy(broker.Port);
        var dying = new PoolMembership(Nodes.Options(pool, cable.Port), "dying");
        await dying.StartAsync(Nodes.State("dying", 4000));
        await watcher.WaitForAsync(v => v.Node("dying")?.Alive == true, Nodes.Wait, "the node to appear");

        cable.Sever();
        var view = await watcher.WaitForAsync(v => v.Node("dying")?.State.Status == NodeStatus.Offline, Nodes.Wait, "the last will");
        Assert.False(view.Node("dying")!.Alive);
        Assert.Null(view.Leader);

        // The will is retained: a node that subscribes afterwards learns it too.
        await using var late = new PoolMembership(Nodes.Options(pool, broker.Port), null);
        await late.StartAsync(null);
        await late.WaitForAsync(v => v.Node("dying")?.State.Status == NodeStatus.Offline, Nodes.Wait, "the retained will");
        await dying.DisposeAsync();
    }

    [Fact]
    public async Task A_node_that_leaves_gracefully_is_removed_from_every_view()
    {
        await using var broker = await StartBrokerAsync();
        var pool = Nodes.UniquePool();
        await using var watcher = new PoolMembership(Nodes.Options(pool, broker.Port), null);
        await watcher.StartAsync(null);
        await using var leaving = new PoolMembership(Nodes.Options(pool, broker.Port), "leaver");
        await leaving.StartAsync(Nodes.State("leaver", 4000));
        await watcher.WaitForAsync(v => v.Node("leaver") is not null, Nodes.Wait, "the node to appear");
        await leaving.LeaveAsync();
        await watcher.WaitForAsync(v => v.Node("leaver") is null, Nodes.Wait, "the node to be removed");
    }

    [Fact]
    public async Task A_node_that_falls_silent_expires_after_its_missed_heartbeats()
    {
        await using var broker = await StartBrokerAsync();
        var pool = Nodes.UniquePool();
        var log = new LogSink();
        await using var watcher = new PoolMembership(Nodes.Options(pool, broker.Port), null, log);
        await watcher.StartAsync(null);
        // A node that published once (heartbeat 200 ms, 3 misses) and then hangs while its connection stays up:
        // no last will can fire, only the heartbeat limit notices.
        var raw = await Nodes.RawClientAsync(broker.Port);
        var state = Nodes.State("hung", 4000) with { HeartbeatAt = DateTimeOffset.UtcNow, HeartbeatIntervalMs = 200, HeartbeatMissLimit = 3 };
        await raw.PublishRetainedAsync(PoolProtocol.NodeStateTopic(pool, "hung"), PoolPayloads.Encode(state));
        var seen = await watcher.WaitForAsync(v => v.Node("hung") is not null, Nodes.Wait, "the node to appear");
        var expired = await watcher.WaitForAsync(v => v.Node("hung")?.Alive == false, Nodes.Wait, "heartbeat expiry");
        Assert.True(expired.TakenAt - seen.Node("hung")!.LastHeard >= TimeSpan.FromMilliseconds(600), "expired before 3 heartbeats of 200 ms");
        Assert.Contains(log.Messages(1006), m => m.Contains("hung", StringComparison.Ordinal));
        raw.Dispose();
    }

    [Fact]
    public async Task Nodes_reconnect_resubscribe_and_republish_after_the_broker_restarts()
    {
        await using var broker = await StartBrokerAsync();
        var pool = Nodes.UniquePool();
        await using var a = new PoolMembership(Nodes.Options(pool, broker.Port), "node-a");
        await a.StartAsync(Nodes.State("node-a", 4000));
        await using var b = new PoolMembership(Nodes.Options(pool, broker.Port), "node-b");
        await b.StartAsync(Nodes.State("node-b", 4000));
        await a.WaitForAsync(v => v.Node("node-b")?.Alive == true, Nodes.Wait, "node-b");

        await broker.StopAsync();    // retained states are gone with it
        await Task.Delay(300);
        await broker.StartAsync();

        // Both reconnect with backoff, resubscribe and republish: each hears the other's fresh state again.
        var before = a.View.Node("node-b")!.LastHeard;
        await a.WaitForAsync(v => v.Node("node-b") is { Alive: true } n && n.LastHeard > before && a.IsConnected, Nodes.Wait, "node-b after the restart");
        await b.WaitForAsync(v => v.Node("node-a")?.Alive == true && b.IsConnected, Nodes.Wait, "node-a after the restart");
        // And the broker holds their states again for a newcomer.
        await using var late = new PoolMembership(Nodes.Options(pool, broker.Port), null);
        await late.StartAsync(null);
        await late.WaitForAsync(v => v.Nodes.Count == 2, Nodes.Wait, "both states retained again");
    }

    [Fact]
    public async Task Malformed_foreign_version_and_mismatched_payloads_are_logged_and_ignored()
    {
        await using var broker = await StartBrokerAsync();
        var pool = Nodes.UniquePool();
        var log = new LogSink();
        await using var watcher = new PoolMembership(Nodes.Options(pool, broker.Port), null, log);
        await watcher.StartAsync(null);
        using var raw = await Nodes.RawClientAsync(broker.Port);

        await raw.PublishRetainedAsync(PoolProtocol.NodeStateTopic(pool, "garbage"), Encoding.UTF8.GetBytes("{not json"));
        await raw.PublishRetainedAsync(PoolProtocol.NodeStateTopic(pool, "future"), PoolPayloads.Encode(Nodes.State("future", 4000) with { ProtocolVersion = 99 }));
        await raw.PublishRetainedAsync(PoolProtocol.NodeStateTopic(pool, "impostor"), PoolPayloads.Encode(Nodes.State("someone-else", 4000)));
        var brokenPlan = new PlanMessage { Leader = "x", Plan = new PoolPlan(pool, "stories260K", 3, [new SliceAssignment("x", 2, 5, true, true, "h:1")]) };
        await raw.PublishRetainedAsync(PoolProtocol.PlanTopic(pool, "stories260K"), PoolPayloads.Encode(brokenPlan));

        Assert.Contains("malformed JSON", await log.WaitForAsync(1001, "/garbage/", Nodes.Wait), StringComparison.Ordinal);
        Assert.Contains("protocol version 99", await log.WaitForAsync(1001, "/future/", Nodes.Wait), StringComparison.Ordinal);
        Assert.Contains("payload names node 'someone-else'", await log.WaitForAsync(1001, "/impostor/", Nodes.Wait), StringComparison.Ordinal);
        Assert.Contains("breaks the chain", await log.WaitForAsync(1001, "/plan/", Nodes.Wait), StringComparison.Ordinal);

        // The pool keeps working: a proper node joins and is seen; none of the bad payloads made it into the view.
        await using var good = new PoolMembership(Nodes.Options(pool, broker.Port), "good");
        await good.StartAsync(Nodes.State("good", 4000));
        var view = await watcher.WaitForAsync(v => v.Node("good") is not null, Nodes.Wait, "the good node");
        Assert.Equal(["good"], view.Nodes.Select(n => n.State.NodeId));
        Assert.Empty(view.Plans);
    }
}

public sealed class MembershipOverMosquittoTests : MembershipContract
{
    protected override Task<ITestBroker> StartBrokerAsync() => Task.FromResult<ITestBroker>(new MosquittoTestBroker());
}

public sealed class MembershipOverEmbeddedBrokerTests : MembershipContract
{
    protected override async Task<ITestBroker> StartBrokerAsync() => await EmbeddedTestBroker.CreateAsync();
}
