using EdgeNode.Models.Conversion;

namespace EdgeNode.Models.Recipes;

/// <summary>One way to convert a recipe's weights, and how that conversion splits over pools of 1 to 4 nodes.</summary>
public sealed class RecipeVariant
{
    /// <summary>What users pass to --variant (int4, int8, fp32).</summary>
    public required string Name { get; init; }

    public required string Precision { get; init; }

    /// <summary>MatMulNBits block size; 0 for fp32.</summary>
    public int BlockSize { get; init; }

    public bool Asymmetric { get; init; }

    /// <summary>Fold activation-aware scales (calibrated on text) into the projections before quantizing.</summary>
    public bool ActivationAware { get; init; }

    /// <summary>Why this variant is recommended, in a sentence.</summary>
    public required string Reason { get; init; }

    /// <summary>Slice boundaries for typical pool sizes, as <see cref="LayerSplitPlanner"/> computes them.</summary>
    public required List<PoolPlan> PoolPlans { get; init; }

    public WeightPrecision WeightPrecision => WeightPrecisionNames.Parse(Precision);

    /// <summary>The plan for <paramref name="nodes"/> nodes; a size without a stored plan is an error listing the stored ones.</summary>
    public PoolPlan Plan(int nodes) =>
        PoolPlans.Find(p => p.Nodes == nodes)
        ?? throw new ArgumentException($"variant {Name} has no plan for {nodes} nodes; planned pool sizes: {string.Join(", ", PoolPlans.Select(p => p.Nodes))}");
}
