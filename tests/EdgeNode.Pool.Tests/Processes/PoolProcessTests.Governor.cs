using System.Diagnostics;
using System.Text.Json;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Tests.Support;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Processes;

/// <summary>
/// The device governor of a real serve process, reading a simulated thermal zone (EDGENODE_SYSFS_ROOT): too hot, the
/// node drains and the leader plans without it; cool again (after the governor's 30 s hold), it is planned back in.
/// Warm but below the drain limit, it runs its slices with fewer threads and stays in the plan.
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
        using var zone = new SimulatedThermalZone(45);
        var pool = Nodes.UniquePool();
        // node-0 and node-1 hold the model without node-2 (3 + 2 layers); with node-2 the slowest stage is shorter.
        var memory = new[] { MaxMemory(model, 3, out _), MaxMemory(model, 2, out _), MaxMemory(model, 1, out _) };
        await using var observer = new PoolMembership(new MembershipOptions { Pool = pool, Broker = BrokerAddress.Parse(broker.Url) }, null);
        await observer.StartAsync(null);
        var nodes = new List<PoolServeNode>();
        try
        {
            nodes.AddRange(lab.Hosts.Select((h, i) => PoolServeNode.Start(h, $"node-{i}", served.Path, broker.Url, pool, memory[i], null,
                i == 2 ? new Dictionary<string, string> { ["EDGENODE_SYSFS_ROOT"] = zone.Root } : null)));
            var view = await observer.WaitForAsync(v => PlanHas(v, model, "node-2") && v.Node("node-2")?.State.Sensors?.TemperatureC is 45.0,
                PlanTimeout, "a plan with node-2 and its temperature");
            var before = view.Plans[model].Plan.Epoch;
            output.WriteLine($"epoch {before}: {Chain(view, model)}; node-2 at {view.Node("node-2")!.State.Sensors!.TemperatureC} °C; others publish no sensors: " +
                $"{view.Node("node-0")!.State.Sensors is null}");
            Assert.Null(view.Node("node-0")!.State.Sensors);

            // Too hot: the governor drains, the node says `draining`, the leader plans without it.
            var hot = Stopwatch.StartNew();
            zone.Set(90);
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
            zone.Set(40);
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

    /// <summary>
    /// Default limits (shed threads above 70 °C, drain at 78 °C) and --threads 3: at 76 °C the governor wants
    /// ceil(3 - 2 × 6/8) = 2 threads, a step, not a drain. The node re-opens its slices with 2 threads, publishes it, stays
    /// in the same plan, and the pool's greedy output is still the golden one; cool again, it steps back to 3 after the
    /// governor's 10 s hold.
    /// </summary>
    [NetnsFact]
    public async Task AGovernorThreadStepReopensTheNodesSlicesAndTheOutputStaysGolden()
    {
        const string model = "stories260K";
        using var served = ServedFolder(model);
        using var lab = NetworkLab.Create(3);
        using var broker = MosquittoBroker.Start(lab.BridgeAddress);
        using var zone = new SimulatedThermalZone(45);
        var pool = Nodes.UniquePool();
        // Each node holds at most two layers: all three are needed, so node-2 is in every plan.
        var memory = MaxMemory(model, 2, out _);
        await using var observer = new PoolMembership(new MembershipOptions { Pool = pool, Broker = BrokerAddress.Parse(broker.Url) }, null);
        await observer.StartAsync(null);
        var nodes = new List<PoolServeNode>();
        try
        {
            nodes.AddRange(lab.Hosts.Select((h, i) => PoolServeNode.Start(h, $"node-{i}", served.Path, broker.Url, pool, memory,
                i == 2 ? new[] { "--threads", "3" } : null,
                i == 2 ? new Dictionary<string, string> { ["EDGENODE_SYSFS_ROOT"] = zone.Root } : null)));
            var epoch = WaitForCommonEpoch(nodes, 0);
            var view = await observer.WaitForAsync(v => PlanHas(v, model, "node-2") && v.Node("node-2")?.State.Sensors?.TemperatureC is 45.0,
                PlanTimeout, "a plan with node-2 and its temperature");
            var state = view.Node("node-2")!.State;
            output.WriteLine($"epoch {epoch}: {Chain(view, model)}; node-2 runs {state.Threads} of at most {state.MaxThreads} threads at 45 °C");
            Assert.Equal((3, 3), (state.Threads, state.MaxThreads));
            Assert.Null(view.Node("node-0")!.State.MaxThreads);   // no sensor: no governor
            CheckGoldens(model, pool, broker.Url, null, hops: 3);

            // Warm: the governor sheds a thread; the node re-opens its slices with 2 and says so, and stays in the plan.
            var warm = Stopwatch.StartNew();
            zone.Set(76);
            view = await observer.WaitForAsync(v => v.Node("node-2")?.State.Threads == 2, TimeSpan.FromSeconds(15), "node-2 publishing 2 threads");
            var stepped = warm.Elapsed;
            state = view.Node("node-2")!.State;
            Assert.Equal(NodeStatus.Serving, state.Status);
            Assert.Equal(3, state.MaxThreads);
            Assert.Equal(epoch, view.Plans[model].Plan.Epoch);
            Assert.True(nodes[2].WaitForLog("runs its slices with 2 intra-op threads instead of 3", TimeSpan.FromSeconds(5)), nodes[2].Stderr);
            var line = nodes[2].Stderr.Split('\n').First(l => l.Contains("runs its slices with 2 intra-op threads", StringComparison.Ordinal));
            Assert.Contains("SoC 76.0", line, StringComparison.Ordinal);   // the governor's reason
            output.WriteLine($"76 °C written: node-2 published 2 threads after {stepped.TotalMilliseconds:F0} ms, still in epoch {epoch}; its log: {line}");

            // `pool status` shows the step, in text and JSON.
            var json = AgentBinary.Run(["pool", "status", "--pool", pool, "--broker", broker.Url, "--json"], timeout: TimeSpan.FromSeconds(30));
            Assert.True(json.ExitCode == 0, json.Stderr);
            using (var doc = JsonDocument.Parse(json.Stdout))
            {
                var node2 = doc.RootElement.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "node-2").GetProperty("state");
                Assert.Equal((2, 3), (node2.GetProperty("threads").GetInt32(), node2.GetProperty("max_threads").GetInt32()));
            }
            var text = AgentBinary.Run(["pool", "status", "--pool", pool, "--broker", broker.Url], timeout: TimeSpan.FromSeconds(30));
            Assert.True(text.ExitCode == 0, text.Stderr);
            var row = text.Stdout.Split('\n').Single(l => l.StartsWith("node-2 ", StringComparison.Ordinal));
            Assert.Contains("  2/3  ", row, StringComparison.Ordinal);
            output.WriteLine(row);

            // The pool's output through the re-opened slices is still golden.
            CheckGoldens(model, pool, broker.Url, null, hops: 3);

            // Cool: one thread back after the governor's hold (10 s between steps up).
            var cool = Stopwatch.StartNew();
            zone.Set(45);
            view = await observer.WaitForAsync(v => v.Node("node-2")?.State.Threads == 3, TimeSpan.FromSeconds(30), "node-2 back at 3 threads");
            output.WriteLine($"45 °C written: node-2 back at 3 threads after {cool.Elapsed.TotalMilliseconds:F0} ms (the 10 s hold counts from the step down)");
            Assert.Equal(epoch, view.Plans[model].Plan.Epoch);
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
