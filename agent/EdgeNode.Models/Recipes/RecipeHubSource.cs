namespace EdgeNode.Models.Recipes;

/// <summary>Where a recipe's checkpoint is published on the Hugging Face hub.</summary>
public sealed class RecipeHubSource
{
    /// <summary>"owner/name".</summary>
    public required string Repository { get; init; }

    /// <summary>Branch, tag or commit.</summary>
    public required string Revision { get; init; }

    public required List<RecipeFile> Files { get; init; }
}

/// <summary>One file of a recipe's checkpoint.</summary>
public sealed class RecipeFile
{
    /// <summary>Path inside the hub repository; the pulled file keeps only its last segment.</summary>
    public required string Path { get; init; }

    /// <summary>A sha256 pinned in the recipe; null means the hub's listing (or the mirror's SHA256SUMS) decides.</summary>
    public string? Sha256 { get; init; }

    public string FileName => Path[(Path.LastIndexOf('/') + 1)..];
}
