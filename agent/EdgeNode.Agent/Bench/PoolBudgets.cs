using EdgeNode.Agent.Daemon;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// The --max-memory of each benchmark node, chosen so the leader's plan puts layers on every one of them. The planner
/// prefers fewer nodes when more do not shorten the slowest stage, so equal, roomy budgets would leave nodes out;
/// instead each node gets room for exactly its share of the layers (plus the embedding and tokenizer on the entry,
/// the head on the last, and less than a layer more where the planner's ordering by size needs it), and the planner's
/// own code checks the result before any process starts.
/// </summary>
internal static class PoolBudgets
{
    /// <summary>Node ids in chain order: n00, n01, …, which the planner's id ordering keeps in that order.</summary>
    public static string NodeId(int index) => $"n{index:D2}";

    /// <returns>Each node's budget in bytes, and the plan the leader will make from them.</returns>
    /// <exception cref="ArgumentException">No split of the layers makes the planner use all <paramref name="nodes"/> nodes.</exception>
    public static (long[] Budgets, PoolPlan Plan) ForEveryNode(ServableModel model, int nodes)
    {
        var planned = PlannedModel.From(model);
        // Slack below one layer, so rounding never costs a layer and never buys one.
        var slack = Math.Min(4096, model.BytesPerLayer / 4);
        var tried = new List<string>();
        foreach (var counts in Splits(model.Layers, nodes))
        {
            if (Budgets(model, counts, slack) is not { } budgets)
            {
                tried.Add(string.Join('+', counts));
                continue;
            }
            var planners = budgets.Select((b, i) => new PlannerNode(NodeId(i), b, null, $"{NodeId(i)}:0")).ToArray();
            var result = LayerPlanner.Plan("bench", 0, planned, planners);
            if (result.Plan is { } plan && plan.Assignments.Count == nodes)
                return (budgets, plan);
            tried.Add(string.Join('+', counts));
        }
        throw new ArgumentException($"cannot give every one of {nodes} nodes a share of {model.Name}'s {model.Layers} layers within memory budgets the planner keeps (tried {string.Join(", ", tried)}); try fewer --nodes");
    }

    /// <summary>
    /// The plan the leader will make from budgets as given (nodes of different sizes), checked before any process
    /// starts: every node must get layers, and no node may be able to hold the whole model (else it is not a pool).
    /// </summary>
    /// <exception cref="ArgumentException">The budgets leave a node out, fall short of the model, or one node holds it all.</exception>
    public static (long[] Budgets, PoolPlan Plan) AsGiven(ServableModel model, long[] budgets)
    {
        var planned = PlannedModel.From(model);
        var whole = ModelSizes.Whole(model);
        for (var i = 0; i < budgets.Length; i++)
        {
            if (budgets[i] >= whole)
                throw new ArgumentException($"--node-memory: node {NodeId(i)}'s {ByteSizeText(budgets[i])} holds all of {model.Name} ({ByteSizeText(whole)}), so it would serve alone; give every node less than that");
        }
        var planners = budgets.Select((b, i) => new PlannerNode(NodeId(i), b, null, $"{NodeId(i)}:0")).ToArray();
        var result = LayerPlanner.Plan("bench", 0, planned, planners);
        if (result.Plan is not { } plan)
            throw new ArgumentException($"--node-memory: the leader would not plan {model.Name} ({ByteSizeText(whole)}) on {string.Join(" + ", budgets.Select(ByteSizeText))}: {result.Refusal}");
        if (plan.Assignments.Count != budgets.Length)
            throw new ArgumentException($"--node-memory: the leader would use {plan.Assignments.Count} of the {budgets.Length} nodes ({string.Join(", ", plan.Assignments.Select(a => a.NodeId))}); a node whose budget does not buy a layer is left out, so raise the smallest budgets");
        return (budgets, plan);
    }

    private static string ByteSizeText(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";

    /// <summary>
    /// Room for exactly <paramref name="counts"/> layers in each node's role (embedding and tokenizer on the first,
    /// head on the last), ordered the way the planner orders a chain: the first node the largest, the last the next
    /// largest, so each node lands in the role its budget was made for. A budget may grow by less than a layer for
    /// that order; null when it would have to grow by a whole one.
    /// </summary>
    private static long[]? Budgets(ServableModel model, int[] counts, long slack)
    {
        var n = counts.Length;
        var extra = (int i) => (i == 0 ? model.EmbedBytes + model.TokenizerBytes : 0) + (i == n - 1 ? model.HeadBytes : 0);
        var budgets = new long[n];
        for (var i = 0; i < n; i++)
            budgets[i] = counts[i] * model.BytesPerLayer + slack + extra(i);
        // The most a budget may hold without room for one more layer in its role.
        long Ceiling(int i) => (counts[i] + 1) * model.BytesPerLayer + extra(i) - 1;
        if (n >= 2)
        {
            var middle = n > 2 ? budgets[1..^1].Max() : 0;
            budgets[^1] = Math.Max(budgets[^1], middle + 1);
            if (budgets[^1] > Ceiling(n - 1))
                return null;
            budgets[0] = Math.Max(budgets[0], budgets[^1] + 1);
            if (budgets[0] > Ceiling(0))
                return null;
        }
        return budgets;
    }

    /// <summary>Near-equal shares, the extra layers placed first, last, then on the middle nodes.</summary>
    private static IEnumerable<int[]> Splits(int layers, int nodes)
    {
        var share = layers / nodes;
        var extra = layers % nodes;
        yield return [.. Enumerable.Range(0, nodes).Select(i => share + (i < extra ? 1 : 0))];
        if (extra == 0)
            yield break;
        yield return [.. Enumerable.Range(0, nodes).Select(i => share + (i >= nodes - extra ? 1 : 0))];
        if (extra < nodes - 1)
            yield return [.. Enumerable.Range(0, nodes).Select(i => share + (i >= 1 && i <= extra ? 1 : 0))];
    }
}
