using System.Text.Json;
using EdgeNode.Pool;
using EdgeNode.Pool.Membership;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>`edgenode pool status` (the AOT binary) against a real mosquitto holding a real two-node pool.</summary>
public sealed class PoolStatusCommandTests : IDisposable
{
    private readonly MosquittoBroker _mosquitto = MosquittoBroker.Start();

    public void Dispose() => _mosquitto.Dispose();

    private static NodeState State(string id, long memory, double ms) => new()
    {
        NodeId = id, AgentVersion = "0.1.0", DataEndpoint = $"127.0.0.1:{(id == "n1" ? 7101 : 7102)}", Status = NodeStatus.Serving,
        WeightsMaxBytes = memory, WeightsFreeBytes = memory, Threads = 1,
        Models = [new ServableModel { Name = "stories260K", Layers = 5, Dim = 64, BytesPerLayer = 1000, EmbedBytes = 500, HeadBytes = 500, TokenizerBytes = 100, Sha256 = "ab", MsPerLayer = ms }],
    };

    [Fact]
    public async Task Status_lists_nodes_health_plan_epoch_slices_and_speed()
    {
        var pool = "st" + Guid.NewGuid().ToString("N")[..8];
        var options = new MembershipOptions { Pool = pool, Broker = new BrokerAddress("127.0.0.1", _mosquitto.Port) };
        await using var n1 = new PoolNode(options, State("n1", 4000, 0.5));
        await using var n2 = new PoolNode(options, State("n2", 4000, 0.5));
        await n1.StartAsync();
        await n2.StartAsync();
        var view = await n2.Membership.WaitForAsync(v => v.Plans.TryGetValue("stories260K", out var p) && p.Plan.Assignments.Count == 2,
            TimeSpan.FromSeconds(10), "a plan over n1 and n2");
        var epoch = view.Plans["stories260K"].Plan.Epoch;

        var json = AgentBinary.Run(["pool", "status", "--pool", pool, "--broker", $"mqtt://127.0.0.1:{_mosquitto.Port}", "--json"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(json.ExitCode == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        Assert.Equal(epoch, root.GetProperty("epoch").GetInt64());
        Assert.Equal("n1", root.GetProperty("leader").GetString());
        var nodes = root.GetProperty("nodes").EnumerateArray().ToArray();
        Assert.Equal(["n1", "n2"], nodes.Select(n => n.GetProperty("node_id").GetString()));
        Assert.All(nodes, n => Assert.True(n.GetProperty("alive").GetBoolean()));
        Assert.Equal(5, nodes.Sum(n => n.GetProperty("slices").EnumerateArray().Sum(s => s.GetProperty("end_layer").GetInt32() - s.GetProperty("first_layer").GetInt32())));

        var text = AgentBinary.Run(["pool", "status", "--pool", pool, "--broker", $"127.0.0.1:{_mosquitto.Port}"], timeout: TimeSpan.FromSeconds(30));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains($"plan stories260K  epoch {epoch}  leader n1", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("+ embedding, tokenizer, sessions", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("+ head, sampling", text.Stdout, StringComparison.Ordinal);
        Assert.Contains(" 0.5", text.Stdout, StringComparison.Ordinal);   // measured ms per layer beside each slice
    }

    [Fact]
    public void An_unreachable_broker_and_an_unknown_pool_are_errors_that_say_what_to_do()
    {
        var closed = AgentBinary.Run(["pool", "status", "--pool", "closet", "--broker", "mqtt://127.0.0.1:1"], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(1, closed.ExitCode);
        Assert.Contains("cannot reach the pool broker mqtt://127.0.0.1:1 for pool 'closet'", closed.Stderr, StringComparison.Ordinal);

        var nobody = AgentBinary.Run(["pool", "status", "--pool", "nobody-home"], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no broker for pool 'nobody-home' answered mDNS", nobody.Stderr, StringComparison.Ordinal);
    }
}
