using System.Globalization;
using EdgeNode.Pool.Membership;

namespace EdgeNode.Pool.Planning;

/// <summary>A node as the planner sees it: what it offers, how fast it is, where its data plane listens.</summary>
/// <param name="MsPerLayer">Measured milliseconds per layer per token; null when unmeasured (the planner assumes the
/// median of the measured nodes, or equal speeds when none is measured).</param>
public sealed record PlannerNode(string NodeId, long WeightsBytes, double? MsPerLayer, string DataEndpoint);

/// <summary>The model being planned, with sizes at the pool's precision.</summary>
public sealed record PlannedModel(string Name, int Layers, long BytesPerLayer, long EmbedBytes, long HeadBytes, long TokenizerBytes, string Sha256)
{
    public long TotalBytes => Layers * BytesPerLayer + EmbedBytes + HeadBytes + TokenizerBytes;

    public static PlannedModel From(ServableModel m) => new(m.Name, m.Layers, m.BytesPerLayer, m.EmbedBytes, m.HeadBytes, m.TokenizerBytes, m.Sha256);
}

/// <summary>The planner's answer: a plan, or a refusal naming the shortfall; and the nodes it left out, with why.</summary>
public sealed record LayerPlanResult(PoolPlan? Plan, string? Refusal, IReadOnlyList<PlanExclusion> Excluded, double SlowestStageMs);

/// <summary>
/// Cuts a model's layers into contiguous ranges, one per chosen node, in chain order.
///
/// Rules (docs/pool-protocol.md, "Planner"):
/// - The first node holds the embedding and the tokenizer and coordinates sessions; the last holds the final norm
///   and the classifier and samples; their bytes count against those nodes' memory. The node with the most memory
///   is first (it also keeps every session's token history), the next is last; the rest follow in node-id order.
/// - Ranges minimise the slowest stage (layers × measured ms per layer) subject to each node's memory, so a fast
///   node takes more layers than a slow one and a small node fewer than a big one. Every chosen node gets at least
///   one layer.
/// - Among node sets that reach the same slowest stage, the one with fewer nodes wins: each hop costs a network
///   round trip per token and buys nothing when it does not shorten the slowest stage. A slow node that would
///   become the bottleneck is left out while the others can hold the model.
/// - Deterministic: the same nodes and model give the same plan; ties go by node id (ordinal).
/// </summary>
public static class LayerPlanner
{
    public static LayerPlanResult Plan(string pool, long epoch, PlannedModel model, IReadOnlyList<PlannerNode> nodes)
    {
        if (model.Layers <= 0)
            throw new ArgumentException($"model '{model.Name}' has {model.Layers} layers");
        var excluded = new List<PlanExclusion>();
        var candidates = new List<PlannerNode>();
        var minimum = model.BytesPerLayer;
        foreach (var n in nodes.DistinctBy(n => n.NodeId).OrderBy(n => n.NodeId, StringComparer.Ordinal))
        {
            if (n.WeightsBytes < minimum || n.WeightsBytes <= 0)
                excluded.Add(new PlanExclusion(n.NodeId, Invariant($"offers {n.WeightsBytes} bytes; one layer needs {minimum}")));
            else
                candidates.Add(n);
        }
        if (candidates.Count == 0)
        {
            return new LayerPlanResult(null, Invariant($"pool '{pool}' cannot serve model '{model.Name}': no serving node offers room for one layer ({minimum} bytes)"),
                excluded, double.PositiveInfinity);
        }

        var speeds = FillUnknownSpeeds(candidates);
        // Fastest first; among equals the larger node, then the id: the order in which sets grow.
        var bySpeed = candidates.OrderBy(n => speeds[n.NodeId]).ThenByDescending(n => n.WeightsBytes).ThenBy(n => n.NodeId, StringComparer.Ordinal).ToArray();

        Stage[]? best = null;
        var bestTime = double.PositiveInfinity;
        for (var k = 1; k <= Math.Min(bySpeed.Length, model.Layers); k++)
        {
            var stages = Arrange(bySpeed.Take(k), model, speeds);
            var time = Balance(stages, model.Layers);
            if (time < bestTime - 1e-9)
            {
                best = stages;
                bestTime = time;
            }
        }

        if (best is null)
            return new LayerPlanResult(null, Shortfall(pool, model, Arrange(bySpeed, model, speeds)), excluded, double.PositiveInfinity);

        foreach (var n in bySpeed)
        {
            if (!best.Any(s => s.Node.NodeId == n.NodeId))
                excluded.Add(new PlanExclusion(n.NodeId, "not needed: the chosen nodes reach a slowest stage as short without it"));
        }
        var assignments = new List<SliceAssignment>(best.Length);
        var next = 0;
        for (var i = 0; i < best.Length; i++)
        {
            var s = best[i];
            assignments.Add(new SliceAssignment(s.Node.NodeId, next, next + s.Layers, i == 0, i == best.Length - 1, s.Node.DataEndpoint));
            next += s.Layers;
        }
        return new LayerPlanResult(new PoolPlan(pool, model.Name, epoch, assignments), null, excluded, bestTime);
    }

    private sealed class Stage(PlannerNode node, double msPerLayer, long layerRoom)
    {
        public PlannerNode Node { get; } = node;
        public double MsPerLayer { get; } = msPerLayer;
        /// <summary>Whole layers that fit beside this stage's embedding/head/tokenizer bytes.</summary>
        public long LayerRoom { get; } = layerRoom;
        public int Layers { get; set; }
        public double Time => Layers * MsPerLayer;
    }

    /// <summary>Puts a node set in chain order: most memory first (embedding, tokenizer), next most last (head).</summary>
    private static Stage[] Arrange(IEnumerable<PlannerNode> set, PlannedModel model, Dictionary<string, double> speeds)
    {
        var bySize = set.OrderByDescending(n => n.WeightsBytes).ThenBy(n => n.NodeId, StringComparer.Ordinal).ToList();
        var first = bySize[0];
        var last = bySize.Count > 1 ? bySize[1] : null;
        var middle = bySize.Skip(2).OrderBy(n => n.NodeId, StringComparer.Ordinal);
        var chain = new List<PlannerNode> { first };
        chain.AddRange(middle);
        if (last is not null)
            chain.Add(last);
        var stages = new Stage[chain.Count];
        for (var i = 0; i < chain.Count; i++)
        {
            var n = chain[i];
            var extra = (i == 0 ? model.EmbedBytes + model.TokenizerBytes : 0) + (i == chain.Count - 1 ? model.HeadBytes : 0);
            var room = n.WeightsBytes - extra;
            var layers = room < 0 ? -1 : model.BytesPerLayer == 0 ? model.Layers : room / model.BytesPerLayer;
            stages[i] = new Stage(n, speeds[n.NodeId], layers);
        }
        return stages;
    }

    /// <summary>Sets each stage's layer count to minimise the slowest stage; returns its time, or infinity when the set cannot hold the model.</summary>
    private static double Balance(Stage[] stages, int layers)
    {
        if (stages.Any(s => s.LayerRoom < 1) || stages.Sum(s => Math.Min(s.LayerRoom, layers)) < layers)
            return double.PositiveInfinity;
        // The slowest stage is always some n × t: try those targets in order; the first where the stages' capacities
        // cover the model is the optimum.
        var targets = stages.SelectMany(s => Enumerable.Range(1, layers).Select(n => n * s.MsPerLayer)).Distinct().Order().ToArray();
        int lo = 0, hi = targets.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (Capacity(stages, targets[mid], layers) >= layers) hi = mid;
            else lo = mid + 1;
        }
        var target = targets[lo];
        foreach (var s in stages)
            s.Layers = CapAt(s, target, layers);
        // Give back the surplus from the slowest stages (ties: the later stage), keeping one layer on each.
        for (var surplus = stages.Sum(s => s.Layers) - layers; surplus > 0; surplus--)
        {
            Stage? slowest = null;
            foreach (var s in stages)
            {
                if (s.Layers > 1 && (slowest is null || s.Time >= slowest.Time))
                    slowest = s;
            }
            slowest!.Layers--;
        }
        return stages.Max(s => s.Time);
    }

    private static long Capacity(Stage[] stages, double target, int layers)
    {
        long total = 0;
        foreach (var s in stages)
        {
            var cap = CapAt(s, target, layers);
            if (cap < 1)
                return 0;
            total += cap;
        }
        return total;
    }

    private static int CapAt(Stage s, double target, int layers) =>
        (int)Math.Min(Math.Min(s.LayerRoom, layers), (long)Math.Floor(target / s.MsPerLayer + 1e-9));

    private static Dictionary<string, double> FillUnknownSpeeds(List<PlannerNode> nodes)
    {
        var known = nodes.Where(n => n.MsPerLayer is > 0).Select(n => n.MsPerLayer!.Value).Order().ToArray();
        var fallback = known.Length == 0 ? 1.0 : known[(known.Length - 1) / 2];
        return nodes.ToDictionary(n => n.NodeId, n => n.MsPerLayer is > 0 ? n.MsPerLayer.Value : fallback, StringComparer.Ordinal);
    }

    private static string Shortfall(string pool, PlannedModel model, Stage[] all)
    {
        var first = all[0];
        if (first.LayerRoom < 1)
        {
            return Invariant($"pool '{pool}' cannot serve model '{model.Name}': no serving node can hold the embedding and tokenizer ")
                 + Invariant($"({model.EmbedBytes + model.TokenizerBytes} bytes) plus one layer ({model.BytesPerLayer} bytes); the largest, '{first.Node.NodeId}', offers {first.Node.WeightsBytes} bytes");
        }
        var last = all[^1];
        if (last.LayerRoom < 1)
        {
            return Invariant($"pool '{pool}' cannot serve model '{model.Name}': no second node can hold the head ({model.HeadBytes} bytes) ")
                 + Invariant($"plus one layer ({model.BytesPerLayer} bytes); '{last.Node.NodeId}' offers {last.Node.WeightsBytes} bytes");
        }
        var offered = all.Sum(s => s.Node.WeightsBytes);
        var room = all.Sum(s => Math.Min(s.LayerRoom, model.Layers));
        var missing = (model.Layers - room) * model.BytesPerLayer;
        return Invariant($"pool '{pool}' cannot hold model '{model.Name}': it needs {model.TotalBytes} bytes ({model.Layers} layers × {model.BytesPerLayer} + embedding ")
             + Invariant($"{model.EmbedBytes} + tokenizer {model.TokenizerBytes} + head {model.HeadBytes}); the {all.Length} serving nodes offer {offered} bytes, ")
             + Invariant($"room for {room} of {model.Layers} layers: short by {missing} bytes ({model.Layers - room} layers). Add a node or raise --max-memory");
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
