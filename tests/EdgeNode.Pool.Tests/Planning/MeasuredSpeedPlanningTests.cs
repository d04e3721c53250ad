using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests.Planning;

/// <summary>The ms_per_layer nodes publish in their states reaches the planner: with room to spare, ranges follow speed.</summary>
public sealed class MeasuredSpeedPlanningTests
{
    private static PoolView View(params NodeState[] states) =>
        new("closet", [.. states.Select(s => new NodeView(s, DateTimeOffset.UtcNow, true))], new Dictionary<string, PlanMessage>(), DateTimeOffset.UtcNow);

    [Fact]
    public void A_node_measured_twice_as_fast_takes_about_twice_the_layers()
    {
        // 12 layers of 1000 bytes; every node could hold the whole model, so memory does not bind.
        var view = View(
            Nodes.State("a", 1_000_000, models: Nodes.Model(layers: 12, ms: 1.0)),
            Nodes.State("b", 1_000_000, models: Nodes.Model(layers: 12, ms: 2.0)),
            Nodes.State("c", 1_000_000, models: Nodes.Model(layers: 12, ms: 2.0)));
        var plan = Assert.Single(PoolPlanner.Decide(view)).Plan!;
        var layers = plan.Assignments.ToDictionary(a => a.NodeId, a => a.LayerCount);
        Assert.Equal(12, layers.Values.Sum());
        // Balanced stages: a's 6 layers at 1 ms = b's and c's 3 at 2 ms.
        Assert.Equal(6, layers["a"]);
        Assert.Equal(3, layers["b"]);
        Assert.Equal(3, layers["c"]);
    }

    [Fact]
    public void Equal_speeds_give_equal_ranges_and_an_unmeasured_node_counts_at_the_median()
    {
        var view = View(
            Nodes.State("a", 1_000_000, models: Nodes.Model(layers: 12, ms: 2.0)),
            Nodes.State("b", 1_000_000, models: Nodes.Model(layers: 12, ms: 2.0)),
            Nodes.State("c", 1_000_000, models: Nodes.Model(layers: 12, ms: null)));
        var plan = Assert.Single(PoolPlanner.Decide(view)).Plan!;
        Assert.All(plan.Assignments, a => Assert.Equal(4, a.LayerCount));
    }

    [Fact]
    public void When_memory_binds_the_fast_node_still_gets_no_more_than_it_can_hold()
    {
        // a is fastest but holds only 2 layers (+ embedding/head): speed cannot override memory.
        var view = View(
            Nodes.State("a", 2 * 1000 + 600, models: Nodes.Model(layers: 12, ms: 0.5)),
            Nodes.State("b", 1_000_000, models: Nodes.Model(layers: 12, ms: 2.0)),
            Nodes.State("c", 1_000_000, models: Nodes.Model(layers: 12, ms: 2.0)));
        var plan = Assert.Single(PoolPlanner.Decide(view)).Plan!;
        Assert.True(plan.For("a") is null || plan.For("a")!.LayerCount <= 2, string.Join(", ", plan.Assignments));
        Assert.Equal(12, plan.Assignments.Sum(a => a.LayerCount));
    }
}
