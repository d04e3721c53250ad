using System.Diagnostics;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Processes;

/// <summary>
/// The device governor of a real serve process, reading a simulated thermal zone (EDGENODE_SYSFS_ROOT): too hot, the
/// node drains and the leader plans without it; cool again (after the governor's 30 s hold), it is planned back in.
/// </summary>
public sealed partial class PoolProcessTests
{
    [NetnsFact]
    public async Task AGovernorDrainTakesTheNodeOutOfThePlanAndItsResumeBringsItBack()
    {
        const string model = "stories260K";
        using var served = ServedFolder(model);
        using var lab = NetworkLab.Create(3);
        using var broker = MosquittoBroker.Start(lab.BridgeAddress);
        using var sysfs = TestPaths.NewTempDirectory("pool-sysfs");
        var zone = Path.Combine(sysfs.Path, "sys", "class", "thermal", "thermal_zone0");
        Directory.CreateDirectory(zone);
        File.WriteAllText(Path.Combine(zone, "type"), "cpu-thermal\n");
        var temp = Path.Combine(zone, "temp");
        File.WriteAllText(temp, "45000\n");
        var pool = "p" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        // node-0 and node-1 hold the model without node-2 (3 + 2 layers); with node-2 the slowest stage is shorter.
        var memory = new[] { MaxMemory(model, 3, out _), MaxMemory(model, 2, out _), MaxMemory(model, 1, out _) };
        await using var observer = new PoolMembership(new MembershipOptions { Pool = pool, Broker = BrokerAddress.Parse(broker.Url) }, null);
        await observer.StartAsync(null);
        var nodes = new List<PoolServeNode>();
        try
        {
            nodes.AddRange(lab.Hosts.Select((h, i) => PoolServeNode.Start(h, $"node-{i}", served.Path, broker.Url, pool, memory[i], null,
                i == 2 ? new Dictionary<string, string> { ["EDGENODE_SYSFS_ROOT"] = sysfs.Path } : null)));
            var view = await observer.WaitForAsync(v => PlanHas(v, model, "node-2") && v.Node("node-2")?.State.Sensors?.TemperatureC is 45.0,
                PlanTimeout, "a plan with node-2 and its temperature");
            var before = view.Plans[model].Plan.Epoch;
            output.WriteLine($"epoch {before}: {Chain(view, model)}; node-2 at {view.Node("node-2")!.State.Sensors!.TemperatureC} °C; others publish no sensors: " +
                $"{view.Node("node-0")!.State.Sensors is null}");
            Assert.Null(view.Node("node-0")!.State.Sensors);

            // Too hot: the governor drains, the node says `draining`, the leader plans without it.
            var hot = Stopwatch.StartNew();
            File.WriteAllText(temp, "90000\n");
            view = await observer.WaitForAsync(v => v.Node("node-2")?.State.Status == NodeStatus.Draining, TimeSpan.FromSeconds(15), "node-2 draining");
            var drained = hot.Elapsed;
            view = await observer.WaitForAsync(v => v.Plans.TryGetValue(model, out var p) && p.Plan.Epoch > before && p.Plan.Assignments.Count > 0 && !PlanHas(v, model, "node-2"),
                TimeSpan.FromSeconds(15), "a plan without node-2");
            var replanned = hot.Elapsed;
            Assert.Equal(90.0, view.Node("node-2")!.State.Sensors!.TemperatureC);
            output.WriteLine($"90 °C written: node-2 draining after {drained.TotalMilliseconds:F0} ms, plan epoch {view.Plans[model].Plan.Epoch} without it after " +
                $"{replanned.TotalMilliseconds:F0} ms: {Chain(view, model)}");
            WaitForCommonEpoch([nodes[0], nodes[1]], before);
            CheckGoldens(model, pool, broker.Url, null, hops: 2);

            // Cool again: after the governor's hold (30 s below the resume limit) the node serves and is planned back in.
            var cool = Stopwatch.StartNew();
            File.WriteAllText(temp, "40000\n");
            view = await observer.WaitForAsync(v => v.Node("node-2")?.State.Status == NodeStatus.Serving, TimeSpan.FromSeconds(60), "node-2 serving again");
            var resumed = cool.Elapsed;
            view = await observer.WaitForAsync(v => PlanHas(v, model, "node-2"), TimeSpan.FromSeconds(15), "a plan with node-2 again");
            var back = cool.Elapsed;
            var epoch = WaitForCommonEpoch(nodes, view.Plans[model].Plan.Epoch - 1);
            var served2 = nodes[2].Serving!.Value.At;
            output.WriteLine($"40 °C written: node-2 serving after {resumed.TotalMilliseconds:F0} ms (the hold is 30 s), planned back in after {back.TotalMilliseconds:F0} ms, " +
                $"all serve epoch {epoch}: {Chain(view, model)}");
            Assert.True(served2 > DateTime.UtcNow - cool.Elapsed);
            CheckGoldens(model, pool, broker.Url, null, hops: 3);
        }
        finally
        {
            StopAll(nodes);
        }
    }

    private static bool PlanHas(PoolView view, string model, string nodeId) =>
        view.Plans.TryGetValue(model, out var plan) && plan.Plan.For(nodeId) is not null;

    private static string Chain(PoolView view, string model) =>
        string.Join(" → ", view.Plans[model].Plan.Assignments.Select(a => $"{a.NodeId}[{a.FirstLayer},{a.EndLayer})"));
}
