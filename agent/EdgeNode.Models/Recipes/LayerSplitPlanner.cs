namespace EdgeNode.Models.Recipes;

/// <summary>
/// Cuts a model's layers into one contiguous range per node so that the heaviest node holds as few weight bytes
/// as possible. The embedding sits on the first node and the head on the last, and their bytes count there: with a
/// large vocabulary the end nodes take fewer layers.
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
    /// Two exact passes of a small dynamic programme (layers and nodes are few): the first finds the smallest possible
    /// heaviest node; the second, among plans within that bound, the one with the least sum of squared node bytes, so
    /// the nodes that do not decide the bound are balanced too. Among equal plans the earliest cuts win, so the same
    /// inputs always give the same plan.
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
        long NodeBytes(int first, int end, int node) =>
            prefix[end] - prefix[first] + (node == 0 ? embeddingBytes : 0) + (node == nodes - 1 ? headBytes : 0);

        var (heaviest, _) = Solve(layers, nodes, NodeBytes, bytes => bytes, Int128.Max, cap: null);
        var (_, cut) = Solve(layers, nodes, NodeBytes, bytes => (Int128)bytes * bytes, (a, b) => a + b, cap: (long)heaviest);

        var slices = new PlannedSlice[nodes];
        var end = layers;
        for (var j = nodes; j >= 1; j--)
        {
            var start = cut[j, end];
            var node = j - 1;
            slices[node] = new PlannedSlice
            {
                FirstLayer = start, EndLayer = end, Embed = node == 0, Head = node == nodes - 1,
                WeightBytes = NodeBytes(start, end, node),
            };
            end = start;
        }
        return new PoolPlan { Nodes = nodes, Slices = [.. slices] };
    }

    /// <summary>
    /// best[j, i]: the best objective when nodes 0..j-1 hold layers [0, i) (each at least one layer, and each within
    /// <paramref name="cap"/> when given); cut[j, i]: where node j-1 starts in that plan. Int128 keeps squared byte
    /// counts exact.
    /// </summary>
    private static (Int128 Best, int[,] Cut) Solve(
        int layers, int nodes, Func<int, int, int, long> nodeBytes, Func<long, Int128> cost, Func<Int128, Int128, Int128> combine, long? cap)
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
                    if (best[j - 1, start] is not { } before)
                        continue;
                    var bytes = nodeBytes(start, i, j - 1);
                    if (bytes > cap)
                        continue;
                    var value = combine(before, cost(bytes));
                    if (best[j, i] is not { } current || value < current)
                    {
                        best[j, i] = value;
                        cut[j, i] = start;
                    }
                }
            }
        }
        return (best[nodes, layers] ?? throw new InvalidOperationException("no plan fits the bound the first pass found"), cut);
    }
}
