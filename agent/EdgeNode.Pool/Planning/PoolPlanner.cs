using EdgeNode.Pool.Membership;

namespace EdgeNode.Pool.Planning;

/// <summary>What the leader wants in force for one model: a chain, or the reason there is none.</summary>
public sealed record ModelPlanDecision(string Model, PoolPlan? Plan, string? Unplanned, IReadOnlyList<PlanExclusion> Excluded)
{
    /// <summary>True when <paramref name="held"/> already says the same (same chain, or the same "no chain"), whatever its epoch.</summary>
    public bool SameAs(PlanMessage? held)
    {
        if (held is null)
            return false;
        if (Plan is null)
            return held.Plan.Assignments.Count == 0 && held.Unplanned == Unplanned;
        return held.Plan.Assignments.SequenceEqual(Plan.Assignments);
    }
}

/// <summary>
/// The leader's whole-pool step: which models to plan, which nodes may hold each, and how memory is shared when a
/// pool serves several models (planned in name order, each from the memory the earlier ones left).
/// </summary>
public static class PoolPlanner
{
    public static IReadOnlyList<ModelPlanDecision> Decide(PoolView view)
    {
        var live = view.Live.Select(n => n.State).OrderBy(s => s.NodeId, StringComparer.Ordinal).ToArray();
        var models = live.SelectMany(s => s.Models.Select(m => m.Name))
            .Concat(view.Plans.Keys)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var remaining = live.ToDictionary(s => s.NodeId, s => s.WeightsMaxBytes, StringComparer.Ordinal);
        var decisions = new List<ModelPlanDecision>(models.Length);
        foreach (var name in models)
        {
            var excluded = new List<PlanExclusion>();
            var offering = new List<(NodeState State, ServableModel Model)>();
            foreach (var s in live)
            {
                var m = s.Model(name);
                if (m is null)
                    continue;
                if (s.Refuses(name))
                {
                    var refusal = s.Refusals.First(r => r.Model == name);
                    excluded.Add(new PlanExclusion(s.NodeId, $"refused epoch {refusal.Epoch}: {refusal.Reason}"));
                    continue;
                }
                offering.Add((s, m));
            }
            if (offering.Count == 0)
            {
                decisions.Add(new ModelPlanDecision(name, null, $"no serving node offers model '{name}'", excluded));
                continue;
            }
            // Nodes must mean the same weights: the hash most nodes hold wins (ties: the smaller hash).
            var sha = offering.GroupBy(o => o.Model.Sha256, StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First().Key;
            foreach (var o in offering.Where(o => o.Model.Sha256 != sha))
                excluded.Add(new PlanExclusion(o.State.NodeId, $"holds other weights for '{name}' (sha256 {Short(o.Model.Sha256)}, the pool's are {Short(sha)})"));
            var agreeing = offering.Where(o => o.Model.Sha256 == sha).ToArray();
            var model = PlannedModel.From(agreeing[0].Model);
            var nodes = agreeing.Select(o => new PlannerNode(o.State.NodeId, remaining[o.State.NodeId], o.Model.MsPerLayer, o.State.DataEndpoint)).ToArray();
            var result = LayerPlanner.Plan(view.Pool, 0, model, nodes);
            excluded.AddRange(result.Excluded);
            if (result.Plan is not null)
            {
                foreach (var a in result.Plan.Assignments)
                    remaining[a.NodeId] -= SliceBytes(model, a);
            }
            decisions.Add(new ModelPlanDecision(name, result.Plan, result.Refusal, excluded));
        }
        return decisions;
    }

    /// <summary>The weight bytes one assignment asks its node to hold.</summary>
    public static long SliceBytes(PlannedModel model, SliceAssignment a) =>
        a.LayerCount * model.BytesPerLayer + (a.Embed ? model.EmbedBytes + model.TokenizerBytes : 0) + (a.Head ? model.HeadBytes : 0);

    private static string Short(string sha) => sha.Length > 12 ? sha[..12] : sha.Length == 0 ? "(none)" : sha;
}
