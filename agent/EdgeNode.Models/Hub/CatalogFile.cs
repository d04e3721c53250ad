namespace EdgeNode.Models.Hub;

/// <summary>One file of a catalog model: where it comes from and what it must hash to.</summary>
/// <param name="FileName">Name inside the model's local folder.</param>
/// <param name="HubPath">Path inside the model's hub repository, or null when the file is not on the hub.</param>
/// <param name="DirectUrl">A pinned URL outside the hub (used when <paramref name="HubPath"/> is null).</param>
/// <param name="Sha256">Expected sha256 in lowercase hex; null means "ask the hub" (its LFS sha256).</param>
/// <param name="MirrorPath">Path under a local mirror folder (EDGENODE_MODEL_MIRROR), '/'-separated.</param>
/// <param name="GitBlobSha1">For a file the hub keeps in git rather than LFS: its blob id, sha1("blob {size}\0" + bytes).</param>
/// <param name="Size">The file's size when known in advance (from the hub's listing).</param>
public sealed record CatalogFile(
    string FileName, string? HubPath, Uri? DirectUrl, string? Sha256, string MirrorPath, string? GitBlobSha1 = null, long? Size = null)
{
    /// <summary>Who vouches for <see cref="Sha256"/> or <see cref="GitBlobSha1"/> (pinned unless filled in at pull time).</summary>
    public DigestSource DigestSource { get; init; } = DigestSource.Pinned;

    /// <summary>The check the file must pass, or null when only the hub can tell (a HEAD on the file).</summary>
    public FileDigest? Digest =>
        Sha256 is { } sha256 ? new FileDigest(DigestAlgorithm.Sha256, sha256.ToLowerInvariant(), Size) { Source = DigestSource }
        : GitBlobSha1 is { } sha1 && Size is { } size ? new FileDigest(DigestAlgorithm.GitBlobSha1, sha1.ToLowerInvariant(), size) { Source = DigestSource }
        : null;
}
