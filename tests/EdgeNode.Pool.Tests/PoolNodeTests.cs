using System.Collections.Concurrent;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests;

/// <summary>Leader planning, epochs, refusals and fencing with several nodes in one real mosquitto.</summary>
public sealed class PoolNodeTests : IDisposable
{
    private readonly RestartableMosquitto _broker = new();
    private readonly string _pool = Nodes.UniquePool();
    private readonly List<PoolNode> _nodes = [];
    private readonly Dictionary<string, LogSink> _logs = [];
    private readonly ConcurrentDictionary<string, ConcurrentQueue<AssignmentChange>> _changes = new();

    public void Dispose()
    {
        foreach (var n in _nodes)
            n.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        _broker.Dispose();
    }

    private async Task<PoolNode> JoinAsync(string id, long memory, Action<PoolNode, AssignmentChange>? onChange = null)
    {
        var log = _logs[id] = new LogSink();
        var node = new PoolNode(Nodes.Options(_pool, _broker.Port), Nodes.State(id, memory), log);
        var queue = _changes.GetOrAdd(id, _ => new());
        node.AssignmentChanged += c =>
        {
            queue.Enqueue(c);
            onChange?.Invoke(node, c);
        };
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }

    private static Task<PoolView> PlanWhere(PoolNode observer, Func<PlanMessage, bool> condition, string what) =>
        observer.Membership.WaitForAsync(v => v.Plans.TryGetValue("stories260K", out var p) && condition(p), Nodes.Wait, what);

    private static string[] Chain(PoolView v) => [.. v.Plans["stories260K"].Plan.Assignments.Select(a => a.NodeId)];

    [Fact]
    public async Task The_leader_replans_with_a_higher_epoch_on_join_and_leave()
    {
        // 5 layers of 1 000 bytes + embedding 500 + tokenizer 100 + head 500. 4 000 bytes each: two nodes hold it
        // (3 + 3 layers of room), three balance it better (2 + 2 + 1).
        var n1 = await JoinAsync("n1", 4000);
        var n2 = await JoinAsync("n2", 4000);
        var two = await PlanWhere(n2, p => p.Plan.Assignments.Count == 2, "a plan over n1 and n2");
        Assert.Equal("n1", two.Plans["stories260K"].Leader);
        var e2 = two.Plans["stories260K"].Plan.Epoch;

        var n3 = await JoinAsync("n3", 4000);
        var three = await PlanWhere(n3, p => p.Plan.Assignments.Count == 3, "a plan over three nodes");
        var e3 = three.Plans["stories260K"].Plan.Epoch;
        Assert.True(e3 > e2, $"epoch {e3} after the join is not above {e2}");
        Assert.Equal(5, three.Plans["stories260K"].Plan.Assignments.Sum(a => a.LayerCount));

        // Every node was told its own part of the newest plan.
        foreach (var id in new[] { "n1", "n2", "n3" })
        {
            var node = _nodes.Single(n => n.NodeId == id);
            await node.Membership.WaitForAsync(_ => _changes[id].Any(c => c.Plan.Epoch == e3), Nodes.Wait, $"{id} told of epoch {e3}");
            var change = _changes[id].Last(c => c.Plan.Epoch == e3);
            Assert.Equal(id, change.Assignment!.NodeId);
            Assert.Equal(three.Plans["stories260K"].Plan.For(id), change.Assignment);
        }

        await n3.LeaveAsync();
        var after = await PlanWhere(n1, p => p.Plan.Epoch > e3 && p.Plan.For("n3") is null, "a plan without n3");
        Assert.Equal(["n1", "n2"], Chain(after).Order(StringComparer.Ordinal));

        // The leader dies without a goodbye: n2 takes over and plans alone (it cannot hold the model alone: no chain).
        var e4 = after.Plans["stories260K"].Plan.Epoch;
        await n1.Membership.AbandonAsync();
        var alone = await PlanWhere(n2, p => p.Plan.Epoch > e4, "a plan by the new leader");
        var message = alone.Plans["stories260K"];
        Assert.Equal("n2", message.Leader);
        Assert.Empty(message.Plan.Assignments);
        Assert.Contains("short by", message.Unplanned, StringComparison.Ordinal);
        await n2.Membership.WaitForAsync(_ => _changes["n2"].Any(c => c.Plan.Epoch == message.Plan.Epoch && c.Assignment is null && c.Unplanned is not null),
            Nodes.Wait, "n2 told it holds nothing");
    }

    [Fact]
    public async Task A_node_that_refuses_its_slice_is_planned_around()
    {
        // n2's data plane "fails" to load whatever it is given the first time.
        var refusedOnce = 0;
        await JoinAsync("n1", 4000);
        await JoinAsync("n2", 4000, (node, change) =>
        {
            if (change.Assignment is not null && Interlocked.Exchange(ref refusedOnce, 1) == 0)
                _ = node.RefuseAsync(change.Plan.Model, change.Plan.Epoch, "out of memory loading the slice");
        });
        var n3 = await JoinAsync("n3", 4000);
        var view = await PlanWhere(n3, p => p.Plan.Assignments.Count > 0 && p.Plan.For("n2") is null
                                            && p.Excluded.Any(e => e.NodeId == "n2"), "a plan without the refusing node");
        var message = view.Plans["stories260K"];
        Assert.Contains("out of memory loading the slice", message.Excluded.Single(e => e.NodeId == "n2").Reason, StringComparison.Ordinal);
        Assert.Equal(["n1", "n3"], Chain(view).Order(StringComparer.Ordinal));
        Assert.Contains(view.Node("n2")!.State.Refusals, r => r.Model == "stories260K");
    }

    [Fact]
    public async Task Stale_plans_are_fenced_and_logged()
    {
        var n1 = await JoinAsync("n1", 4000);
        var n2 = await JoinAsync("n2", 4000);
        var old = (await PlanWhere(n2, p => p.Plan.Assignments.Count == 2, "a plan over two nodes")).Plans["stories260K"];
        await JoinAsync("n3", 4000);
        var current = (await PlanWhere(n2, p => p.Plan.Assignments.Count == 3, "a plan over three nodes")).Plans["stories260K"];
        var log = new LogSink();
        await using var watcher = new PoolMembership(Nodes.Options(_pool, _broker.Port), null, log);
        await watcher.StartAsync(null);
        await watcher.WaitForAsync(v => v.Plans.ContainsKey("stories260K"), Nodes.Wait, "the retained plan");

        // The two-node plan arrives again, late (a delayed retained message, an old leader's replay), from a
        // leader id that would win a tie: its epoch is below the one in force.
        var stale = old with { Leader = "n0" };
        using var raw = await Nodes.RawClientAsync(_broker.Port);
        await raw.PublishRetainedAsync(PoolProtocol.PlanTopic(_pool, "stories260K"), PoolPayloads.Encode(stale));
        Assert.Contains($"stale epoch {old.Plan.Epoch}", await log.WaitForAsync(1001, "/plan/", Nodes.Wait), StringComparison.Ordinal);
        Assert.Equal(current.Plan.Epoch, watcher.View.Plans["stories260K"].Plan.Epoch);
        Assert.Equal(current.Plan.Assignments, n1.Membership.View.Plans["stories260K"].Plan.Assignments);
        Assert.True(_changes["n2"].Count(c => c.Plan.Epoch == old.Plan.Epoch) <= 1, "the stale plan was handed to the data plane again");
    }

    [Fact]
    public async Task A_pool_too_small_publishes_why()
    {
        await JoinAsync("n1", 2500);
        var n2 = await JoinAsync("n2", 2500);
        // Two small nodes cannot hold the model: the leader publishes a plan without a chain that says why.
        var tooSmall = (await PlanWhere(n2, p => p.Unplanned is not null, "an unplanned plan")).Plans["stories260K"];
        Assert.Empty(tooSmall.Plan.Assignments);
        Assert.Contains("cannot hold model 'stories260K'", tooSmall.Unplanned, StringComparison.Ordinal);
        // A third node makes a chain; when it leaves, the unplanned plan fences that chain with a newer epoch.
        var n3 = await JoinAsync("n3", 4000);
        var planned = await PlanWhere(n2, p => p.Plan.Assignments.Count > 0, "a chain over three nodes");
        await n3.LeaveAsync();
        var view = await PlanWhere(n2, p => p.Plan.Epoch > planned.Plans["stories260K"].Plan.Epoch, "the next plan");
        var message = view.Plans["stories260K"];
        Assert.Empty(message.Plan.Assignments);
        Assert.Contains("cannot hold model 'stories260K'", message.Unplanned, StringComparison.Ordinal);
        Assert.Contains("short by 2000 bytes (2 layers)", message.Unplanned, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_broker_restart_the_leader_puts_the_plan_back_for_newcomers()
    {
        await JoinAsync("n1", 4000);
        var n2 = await JoinAsync("n2", 4000);
        var before = (await PlanWhere(n2, p => p.Plan.Assignments.Count == 2, "a plan")).Plans["stories260K"];

        _broker.Stop();   // no persistence: the retained states and plan are gone
        await Task.Delay(300);
        _broker.Start();

        await using var newcomer = new PoolMembership(Nodes.Options(_pool, _broker.Port), null);
        await newcomer.StartAsync(null);
        // The plan comes back: the same one, or (if the outage outlasted the heartbeat limit and the nodes expired in
        // each other's views) a newer epoch of the same chain.
        PoolView view;
        try
        {
            view = await newcomer.WaitForAsync(v => v.Plans.TryGetValue("stories260K", out var p) && p.Plan.Assignments.Count == 2 && v.Nodes.Count == 2,
                Nodes.Wait, "the plan and both nodes back");
        }
        catch (TimeoutException e)
        {
            var v = newcomer.View;
            throw new TimeoutException($"{e.Message}; newcomer sees nodes [{string.Join(", ", v.Nodes.Select(n => $"{n.State.NodeId}:{n.State.Status}:{n.Alive}"))}] "
                + $"plans [{string.Join(", ", v.Plans.Values.Select(p => $"{p.Plan.Model}@{p.Plan.Epoch}/{p.Plan.Assignments.Count} by {p.Leader}"))}]; "
                + string.Join(" || ", _logs.Select(l => l.Key + ": " + string.Join(" | ", l.Value.Entries.Select(x => x.Message)))));
        }
        Assert.True(view.Plans["stories260K"].Plan.Epoch >= before.Plan.Epoch);
        Assert.Equal(before.Plan.Assignments, view.Plans["stories260K"].Plan.Assignments);
    }
}
