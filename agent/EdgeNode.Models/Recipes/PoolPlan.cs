namespace EdgeNode.Models.Recipes;

/// <summary>How one variant splits over a pool of <see cref="Nodes"/> nodes: one contiguous slice per node.</summary>
public sealed class PoolPlan
{
    public required int Nodes { get; init; }

    public required List<PlannedSlice> Slices { get; init; }

    /// <summary>The bytes of the heaviest node: what decides whether the pool can hold the model.</summary>
    public long MaxNodeBytes => Slices.Max(s => s.WeightBytes);

    /// <summary>The layer ranges, e.g. "0:12,12:24" (the form --layers takes).</summary>
    public string LayerRanges => string.Join(',', Slices.Select(s => $"{s.FirstLayer}:{s.EndLayer}"));
}

/// <summary>The part of the model one node holds: layers [FirstLayer, EndLayer), the embedding on the first node, the head on the last.</summary>
public sealed class PlannedSlice
{
    public required int FirstLayer { get; init; }
    public required int EndLayer { get; init; }
    public bool Embed { get; init; }
    public bool Head { get; init; }

    /// <summary>Weight bytes the node loads, as <see cref="WeightFootprint"/> estimates them.</summary>
    public required long WeightBytes { get; init; }
}
