using System.Net;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;
using EdgeNode.Pool.Slices;
using EdgeNode.Pool.Tests.Support;

namespace EdgeNode.Pool.Tests.Slices;

/// <summary>How a node without files picks its model and its sources, and which node builds slices for it.</summary>
public sealed class SlicePeersTests
{
    private static PoolView View(IEnumerable<NodeState> states, bool alive = true) =>
        new("closet", [.. states.Select(s => new NodeView(s, DateTimeOffset.UtcNow, alive))], new Dictionary<string, PlanMessage>(), DateTimeOffset.UtcNow);

    private static NodeState Holder(string id, string endpoint, ServableModel? model = null) =>
        Nodes.State(id, 1_000_000, models: model ?? Nodes.Model() with { Precision = "fp32" }) with { DataEndpoint = endpoint };

    private static NodeState Fetcher(string id, string endpoint) =>
        Nodes.State(id, 1_000_000, models: Nodes.Model() with { Precision = "fp32", Local = false }) with { DataEndpoint = endpoint };

    [Fact]
    public void A_node_without_files_takes_up_the_model_a_peer_holds_whole_marked_not_local()
    {
        var view = View([Holder("b", "10.0.0.3:7470"), Holder("a", "10.0.0.2:7470", Nodes.Model(ms: 0.5) with { Precision = "fp32" })]);
        var model = SlicePeers.Adoptable(view, "me", null)!;
        Assert.Equal("stories260K", model.Name);
        Assert.False(model.Local);
        Assert.Null(model.MsPerLayer);
        Assert.Equal(Nodes.Sha, model.Sha256);
        Assert.Null(SlicePeers.Adoptable(view, "me", "tinyllama"));
        Assert.Null(SlicePeers.Adoptable(View([Fetcher("c", "10.0.0.4:7470")]), "me", null));
    }

    [Fact]
    public void Sources_are_live_peers_with_the_same_weights_on_their_data_port_plus_one()
    {
        var other = Nodes.Model(sha: new string('e', 64)) with { Precision = "fp32" };
        var view = View([Holder("a", "10.0.0.2:7470"), Holder("b", "10.0.0.3:7480", other), Fetcher("c", "10.0.0.4:7470"), Fetcher("me", "10.0.0.9:7470")]);
        var own = Nodes.Model() with { Precision = "fp32", Local = false };
        var sources = SlicePeers.For(view, "me", own);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.2"), 7471), new IPEndPoint(IPAddress.Parse("10.0.0.4"), 7471)], sources);
        Assert.Empty(SlicePeers.For(view, "me", own with { Precision = "int8" }));
    }

    [Fact]
    public void Only_the_lowest_id_holder_builds_and_only_for_nodes_without_the_checkpoint()
    {
        var view = View([Holder("b", "10.0.0.3:7470"), Holder("a", "10.0.0.2:7470"), Fetcher("c", "10.0.0.4:7470")]);
        var plan = new PoolPlan("closet", "stories260K", 3, [
            new SliceAssignment("a", 0, 2, true, false, "10.0.0.2:7470"),
            new SliceAssignment("c", 2, 3, false, false, "10.0.0.4:7470"),
            new SliceAssignment("b", 3, 5, false, true, "10.0.0.3:7470"),
        ]);
        var own = Nodes.Model() with { Precision = "fp32" };
        Assert.Equal("a", SlicePeers.Provider(view, own));
        Assert.Equal(["c"], SlicePeers.ToBuildFor(plan, view, "a", own).Select(x => x.NodeId));
        Assert.Empty(SlicePeers.ToBuildFor(plan, view, "b", own));
        // The provider gone, the next holder takes over.
        var withoutA = View([Holder("b", "10.0.0.3:7470"), Fetcher("c", "10.0.0.4:7470")]);
        Assert.Equal(["c"], SlicePeers.ToBuildFor(plan, withoutA, "b", own).Select(x => x.NodeId));
    }
}
