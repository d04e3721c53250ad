namespace EdgeNode.Models.Hub;

/// <summary>Who vouches for the hash a pulled file was checked against.</summary>
public enum DigestSource
{
    /// <summary>Pinned in EdgeNode's catalog or a recipe: the file is what the catalog names.</summary>
    Pinned,

    /// <summary>The hub's listing or its LFS sha256 for the pinned repository and revision.</summary>
    Hub,

    /// <summary>
    /// Only the mirror itself: its SHA256SUMS, or with none the mirror file's own hash. The check shows the copy is
    /// intact, not that the mirror holds the right file, so such a file is unverified.
    /// </summary>
    Mirror,
}
