using System.Globalization;
using System.Net;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// Who in the pool can hand out slices of a model, read from the nodes' retained states: every live node that lists
/// the same weights (sha256 and precision) serves its slices on its data port + 1, and one of the nodes that hold the
/// whole checkpoint — the <see cref="Provider"/> — builds the slices a plan gives to nodes that do not, so that they
/// have someone to fetch them from (docs/pool-slices.md, "Nodes without the checkpoint").
/// </summary>
public static class SlicePeers
{
    /// <summary>The slice server's port beside a data plane on <paramref name="dataPort"/>.</summary>
    public static int SlicePort(int dataPort) => dataPort + 1;

    /// <summary>The slice server of the node whose data plane is at <paramref name="dataEndpoint"/> ("host:port"); null when it does not parse.</summary>
    public static EndPoint? SliceEndpoint(string dataEndpoint)
    {
        var colon = dataEndpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(dataEndpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65534)
            return null;
        var host = dataEndpoint[..colon].Trim('[', ']');
        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, SlicePort(port)) : new DnsEndPoint(host, SlicePort(port));
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> are the same weights at the same precision (slices are interchangeable).</summary>
    public static bool SameWeights(ServableModel a, ServableModel b) =>
        a.Name == b.Name && a.Sha256 == b.Sha256 && a.Sha256.Length > 0 && (a.Precision ?? "fp32") == (b.Precision ?? "fp32");

    /// <summary>Live nodes other than <paramref name="selfId"/> that may hold slices of <paramref name="model"/> (serving or draining: a drained node still answers).</summary>
    public static IReadOnlyList<EndPoint> For(PoolView view, string selfId, ServableModel model) =>
        [.. Holders(view, model).Where(s => s.NodeId != selfId).Select(s => SliceEndpoint(s.DataEndpoint)).OfType<EndPoint>()];

    /// <summary>
    /// The node that builds slices for the nodes without the checkpoint: the lowest node id (ordinal) among live nodes
    /// that hold <paramref name="model"/>'s whole checkpoint. Every node computes the same one from the same states.
    /// </summary>
    public static string? Provider(PoolView view, ServableModel model) =>
        Holders(view, model).Where(s => s.Model(model.Name)!.Local).Select(s => s.NodeId).Order(StringComparer.Ordinal).FirstOrDefault();

    /// <summary>
    /// The assignments of <paramref name="plan"/> that <paramref name="selfId"/> must build for others: none unless it
    /// is the <see cref="Provider"/>; then those of nodes that list the model without holding its checkpoint.
    /// </summary>
    public static IReadOnlyList<SliceAssignment> ToBuildFor(PoolPlan plan, PoolView view, string selfId, ServableModel own)
    {
        if (!own.Local || Provider(view, own) != selfId)
            return [];
        var result = new List<SliceAssignment>();
        foreach (var a in plan.Assignments)
        {
            if (a.NodeId == selfId)
                continue;
            if (view.Node(a.NodeId)?.State.Model(own.Name) is { Local: false } theirs && SameWeights(theirs, own))
                result.Add(a);
        }
        return result;
    }

    /// <summary>
    /// The model a node without files takes up: <paramref name="wanted"/> when given, else the first by name that a live
    /// node holds whole; null while none does. The sizes and hash are the holder's (its precision), marked not local.
    /// </summary>
    public static ServableModel? Adoptable(PoolView view, string selfId, string? wanted)
    {
        var held = view.Nodes
            .Where(n => n.Alive && n.State.NodeId != selfId && n.State.Status is NodeStatus.Serving or NodeStatus.Draining)
            .OrderBy(n => n.State.NodeId, StringComparer.Ordinal)
            .SelectMany(n => n.State.Models.Where(m => m.Local && m.Sha256.Length > 0))
            .Where(m => wanted is null || m.Name == wanted)
            .ToList();
        if (held.Count == 0)
            return null;
        // The weights most holders agree on (ties: the smaller hash), as the planner chooses.
        var name = wanted ?? held.Select(m => m.Name).Order(StringComparer.Ordinal).First();
        var choice = held.Where(m => m.Name == name)
            .GroupBy(m => (m.Sha256, m.Precision))
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key.Sha256, StringComparer.Ordinal).First().First();
        return choice with { Local = false, MsPerLayer = null };
    }

    private static IEnumerable<NodeState> Holders(PoolView view, ServableModel model) =>
        view.Nodes.Where(n => n.Alive && n.State.Status is NodeStatus.Serving or NodeStatus.Draining)
            .Select(n => n.State)
            .Where(s => s.Model(model.Name) is { } m && SameWeights(m, model));
}
