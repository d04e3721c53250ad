namespace EdgeNode.Models.Recipes;

/// <summary>
/// Cuts a model's layers into one contiguous range per node. A pool is a pipeline: each token passes every node
/// in turn, so the node that reads the most weight bytes per token sets the pool's speed. The planner therefore
/// balances the bytes read per token first (the layers, plus the head on the last node) and only then the bytes
/// held: the embedding sits on the first node and counts toward what it holds, but a token reads just one of its
/// rows, so it does not push layers off the first node.
/// </summary>
public static class LayerSplitPlanner
{
    /// <summary>The plan for <paramref name="nodes"/> nodes with the byte sizes of <paramref name="footprint"/>.</summary>
    public static PoolPlan Plan(WeightFootprint footprint, int layers, int nodes)
    {
        ArgumentNullException.ThrowIfNull(footprint);
        return Plan(Enumerable.Repeat(footprint.LayerBytes, layers).ToArray(), footprint.EmbeddingBytes, footprint.HeadBytes, nodes);
    }

    /// <summary>
    /// Three exact passes of a small dynamic programme (layers and nodes are few): the smallest possible per-token read
    /// of the busiest node; within that, the smallest possible weight bytes of the fullest node; within both, the
    /// least sum of squared per-token reads, so the nodes that decide neither bound are balanced too. Among equal
    /// plans the earliest cuts win, so the same inputs always give the same plan.
    /// </summary>
    public static PoolPlan Plan(IReadOnlyList<long> layerBytes, long embeddingBytes, long headBytes, int nodes)
    {
        ArgumentNullException.ThrowIfNull(layerBytes);
        var layers = layerBytes.Count;
        if (nodes < 1)
            throw new ArgumentOutOfRangeException(nameof(nodes), nodes, "a pool has at least one node");
        if (nodes > layers)
            throw new ArgumentException($"{nodes} nodes cannot each hold a layer of a {layers}-layer model; use at most {layers} nodes", nameof(nodes));

        var prefix = new long[layers + 1];
        for (var i = 0; i < layers; i++)
            prefix[i + 1] = prefix[i] + layerBytes[i];
        long ReadBytes(int first, int end, int node) => prefix[end] - prefix[first] + (node == nodes - 1 ? headBytes : 0);
        long HeldBytes(int first, int end, int node) => ReadBytes(first, end, node) + (node == 0 ? embeddingBytes : 0);

        var (busiest, _) = Solve(layers, nodes, (_, _, _) => true, (f, e, n) => ReadBytes(f, e, n), Int128.Max);
        bool WithinRead(int f, int e, int n) => ReadBytes(f, e, n) <= busiest;
        var (fullest, _) = Solve(layers, nodes, WithinRead, (f, e, n) => HeldBytes(f, e, n), Int128.Max);
        var (_, cut) = Solve(layers, nodes,
            (f, e, n) => WithinRead(f, e, n) && HeldBytes(f, e, n) <= fullest,
            (f, e, n) => (Int128)ReadBytes(f, e, n) * ReadBytes(f, e, n),
            (a, b) => a + b);

        var slices = new PlannedSlice[nodes];
        var end = layers;
        for (var j = nodes; j >= 1; j--)
        {
            var start = cut[j, end];
            var node = j - 1;
            slices[node] = new PlannedSlice
            {
                FirstLayer = start, EndLayer = end, Embed = node == 0, Head = node == nodes - 1,
                WeightBytes = HeldBytes(start, end, node),
            };
            end = start;
        }
        return new PoolPlan { Nodes = nodes, Slices = [.. slices] };
    }

    /// <summary>
    /// best[j, i]: the best objective when nodes 0..j-1 hold layers [0, i) (each at least one layer, each allowed by
    /// <paramref name="allowed"/>); cut[j, i]: where node j-1 starts in that plan. Int128 keeps squared byte counts exact.
    /// </summary>
    private static (Int128 Best, int[,] Cut) Solve(
        int layers, int nodes, Func<int, int, int, bool> allowed, Func<int, int, int, Int128> cost, Func<Int128, Int128, Int128> combine)
    {
        var best = new Int128?[nodes + 1, layers + 1];
        var cut = new int[nodes + 1, layers + 1];
        best[0, 0] = 0;
        for (var j = 1; j <= nodes; j++)
        {
            for (var i = j; i <= layers - (nodes - j); i++)
            {
                for (var start = j - 1; start < i; start++)
                {
                    if (best[j - 1, start] is not { } before || !allowed(start, i, j - 1))
                        continue;
                    var value = combine(before, cost(start, i, j - 1));
                    if (best[j, i] is not { } current || value < current)
                    {
                        best[j, i] = value;
                        cut[j, i] = start;
                    }
                }
            }
        }
        return (best[nodes, layers] ?? throw new InvalidOperationException("no plan meets the bounds the earlier passes found"), cut);
    }
}
