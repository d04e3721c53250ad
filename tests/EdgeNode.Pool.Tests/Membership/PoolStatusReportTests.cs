using System.Text.Json;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests.Membership;

public sealed class PoolStatusReportTests
{
    [Fact]
    public async Task The_report_shows_each_node_with_its_health_slice_and_speed()
    {
        using var broker = new RestartableMosquitto();
        var pool = Nodes.UniquePool();
        await using var a = new PoolNode(Nodes.Options(pool, broker.Port), Nodes.State("a", 4000) with
        {
            Models = [Nodes.Model(ms: 0.25)], Sensors = new NodeSensors { TemperatureC = 48 },
        });
        await using var b = new PoolNode(Nodes.Options(pool, broker.Port), Nodes.State("b", 4000));
        await a.StartAsync();
        await b.StartAsync();
        await using var observer = new PoolMembership(Nodes.Options(pool, broker.Port), null);
        await observer.StartAsync(null);
        var view = await observer.WaitForAsync(v => v.Plans.Count == 1 && v.Nodes.Count == 2, Nodes.Wait, "a plan over a and b");

        var report = PoolStatusReport.From(view, new BrokerAddress("127.0.0.1", broker.Port));
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(pool, root.GetProperty("pool").GetString());
        Assert.Equal("a", root.GetProperty("leader").GetString());
        Assert.Equal(view.Plans["stories260K"].Plan.Epoch, root.GetProperty("epoch").GetInt64());
        var nodeA = root.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "a");
        Assert.True(nodeA.GetProperty("alive").GetBoolean());
        Assert.Equal("serving", nodeA.GetProperty("status").GetString());
        Assert.InRange(nodeA.GetProperty("heartbeat_age_ms").GetInt64(), 0, 5000);
        var slice = nodeA.GetProperty("slices").EnumerateArray().Single();
        Assert.Equal(0.25, slice.GetProperty("ms_per_layer").GetDouble());
        Assert.Equal(48, nodeA.GetProperty("state").GetProperty("sensors").GetProperty("temperature_c").GetDouble());
        var layers = root.GetProperty("plans")[0].GetProperty("plan").GetProperty("assignments").EnumerateArray()
            .Sum(x => x.GetProperty("end_layer").GetInt32() - x.GetProperty("first_layer").GetInt32());
        Assert.Equal(5, layers);
    }
}
