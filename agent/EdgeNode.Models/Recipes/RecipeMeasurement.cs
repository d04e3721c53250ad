namespace EdgeNode.Models.Recipes;

/// <summary>One benchmark result for a variant of a recipe; any value a run did not measure is null.</summary>
public sealed class RecipeMeasurement
{
    public required string Variant { get; init; }

    /// <summary>What it ran on (board, cores, threads), free text.</summary>
    public string? Device { get; init; }

    /// <summary>"real weights" or "random weights at the shape of X".</summary>
    public string? Weights { get; init; }

    /// <summary>Teacher-forced perplexity on <see cref="PerplexityText"/>.</summary>
    public double? Perplexity { get; init; }

    public string? PerplexityText { get; init; }

    /// <summary>Share of greedy tokens equal to the fp32 conversion's, 0..1.</summary>
    public double? GreedyAgreement { get; init; }

    public double? DecodeTokensPerSecond { get; init; }

    public long? WeightBytes { get; init; }

    public long? PeakRssBytes { get; init; }

    /// <summary>UTC day of the run, yyyy-MM-dd.</summary>
    public string? Date { get; init; }

    /// <summary>The record of the run under docs/measurements/ these figures come from (repository-relative path).</summary>
    public string? Source { get; init; }
}
