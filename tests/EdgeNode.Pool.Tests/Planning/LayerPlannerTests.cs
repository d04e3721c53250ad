using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Tests.Planning;

public sealed class LayerPlannerTests
{
    // The TinyLlama-1.1B shape at int8: 22 layers of ~44 MB, embedding and classifier 65.5 MB each.
    private static readonly PlannedModel TinyLlama = new("tinyllama", 22, 44_000_000, 65_536_000, 65_536_000, 500_000, "sha");

    private static PlannerNode Node(string id, long bytes, double? ms = null) => new(id, bytes, ms, $"{id}:9000");

    [Fact]
    public void Ranges_follow_memory_when_memory_binds()
    {
        // 1 : 2 : 3 of memory, together just above the model; equal speeds.
        var unit = 200_000_000L;
        var result = LayerPlanner.Plan("closet", 1, TinyLlama, [Node("a", unit), Node("b", 2 * unit), Node("c", 3 * unit)]);
        var plan = Assert.IsType<PoolPlan>(result.Plan);
        var layers = plan.Assignments.ToDictionary(x => x.NodeId, x => x.LayerCount);
        Assert.Equal(22, layers.Values.Sum());
        Assert.True(layers["a"] < layers["b"] && layers["b"] < layers["c"], $"ranges {string.Join(", ", layers)} do not grow with memory");
        foreach (var a in plan.Assignments)
            Assert.True(PoolPlanner.SliceBytes(TinyLlama, a) <= new[] { unit, 2 * unit, 3 * unit }["abc".IndexOf(a.NodeId[0])], $"{a.NodeId} over its memory");
        // The biggest node is first (embedding, tokenizer, sessions), the next is last (head, sampling).
        Assert.Equal("c", plan.Assignments[0].NodeId);
        Assert.True(plan.Assignments[0].Embed);
        Assert.Equal("b", plan.Assignments[^1].NodeId);
        Assert.True(plan.Assignments[^1].Head);
        AssertContiguous(plan, 22);
    }

    [Fact]
    public void Faster_nodes_take_more_layers_when_memory_allows()
    {
        var big = 2_000_000_000L;
        var result = LayerPlanner.Plan("closet", 1, TinyLlama, [Node("fast", big, 1.0), Node("slow", big, 3.0)]);
        var plan = Assert.IsType<PoolPlan>(result.Plan);
        var fast = plan.For("fast")!.LayerCount;
        var slow = plan.For("slow")!.LayerCount;
        Assert.Equal(22, fast + slow);
        // Balanced stages: 3 × slow ≈ fast; the slowest stage is the best achievable (no better split exists).
        Assert.True(fast > slow, $"fast {fast} slow {slow}");
        var best = Enumerable.Range(1, 21).Min(f => Math.Max(f * 1.0, (22 - f) * 3.0));
        Assert.Equal(best, result.SlowestStageMs, 6);
    }

    [Fact]
    public void A_slow_node_that_would_be_the_bottleneck_is_left_out()
    {
        var big = 2_000_000_000L;
        var model = TinyLlama with { Layers = 4 };
        var result = LayerPlanner.Plan("closet", 1, model, [Node("fast", big, 1.0), Node("crawl", big, 10.0)]);
        var plan = Assert.IsType<PoolPlan>(result.Plan);
        Assert.Equal(["fast"], plan.Assignments.Select(a => a.NodeId));
        Assert.True(plan.Assignments[0].Embed && plan.Assignments[0].Head);
        Assert.Contains(result.Excluded, e => e.NodeId == "crawl");
    }

    [Fact]
    public void Same_inputs_in_any_order_give_the_same_plan()
    {
        PlannerNode[] nodes = [Node("n3", 400_000_000, 2.0), Node("n1", 300_000_000), Node("n2", 300_000_000, 2.0), Node("n4", 500_000_000, 1.5)];
        var first = LayerPlanner.Plan("closet", 7, TinyLlama, nodes).Plan!;
        for (var i = 0; i < 10; i++)
        {
            var shuffled = nodes.OrderBy(_ => Random.Shared.Next()).ToArray();
            var again = LayerPlanner.Plan("closet", 7, TinyLlama, shuffled).Plan!;
            Assert.Equal(first.Assignments, again.Assignments);
        }
        AssertContiguous(first, 22);
    }

    [Fact]
    public void Ties_are_broken_by_node_id()
    {
        var result = LayerPlanner.Plan("closet", 1, TinyLlama, [Node("zeta", 1_000_000_000), Node("alpha", 1_000_000_000)]);
        var plan = result.Plan!;
        Assert.Equal(["alpha", "zeta"], plan.Assignments.Select(a => a.NodeId));
        Assert.Equal(11, plan.Assignments[0].LayerCount);
    }

    [Fact]
    public void A_pool_too_small_is_refused_with_the_shortfall()
    {
        var result = LayerPlanner.Plan("closet", 1, TinyLlama, [Node("a", 300_000_000), Node("b", 300_000_000), Node("tiny", 1_000)]);
        Assert.Null(result.Plan);
        var reason = Assert.IsType<string>(result.Refusal);
        // needs 22 × 44 MB + 65.5 + 65.5 + 0.5 MB = 1 099.572 MB; a and b hold (300 − 66.036) / 44 = 5 and (300 − 65.536) / 44 = 5 layers.
        Assert.Contains("needs 1099572000 bytes", reason, StringComparison.Ordinal);
        Assert.Contains("room for 10 of 22 layers", reason, StringComparison.Ordinal);
        Assert.Contains("short by 528000000 bytes (12 layers)", reason, StringComparison.Ordinal);
        Assert.Contains(result.Excluded, e => e.NodeId == "tiny" && e.Reason.Contains("one layer needs 44000000", StringComparison.Ordinal));
    }

    [Fact]
    public void No_node_for_the_embedding_is_named_as_such()
    {
        var result = LayerPlanner.Plan("closet", 1, TinyLlama, [Node("a", 50_000_000), Node("b", 50_000_000)]);
        Assert.Null(result.Plan);
        Assert.Contains("embedding and tokenizer (66036000 bytes)", result.Refusal, StringComparison.Ordinal);
    }

    private static void AssertContiguous(PoolPlan plan, int layers)
    {
        var next = 0;
        for (var i = 0; i < plan.Assignments.Count; i++)
        {
            var a = plan.Assignments[i];
            Assert.Equal(next, a.FirstLayer);
            Assert.True(a.LayerCount >= 1);
            Assert.Equal(i == 0, a.Embed);
            Assert.Equal(i == plan.Assignments.Count - 1, a.Head);
            next = a.EndLayer;
        }
        Assert.Equal(layers, next);
    }
}
