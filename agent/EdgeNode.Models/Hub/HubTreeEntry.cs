namespace EdgeNode.Models.Hub;

/// <summary>One file in the hub's tree listing (GET {endpoint}/api/models/{repo}/tree/{revision}?recursive=1).</summary>
/// <param name="Path">Path inside the repository.</param>
/// <param name="Size">The file's size (for an LFS file, the object's, not the pointer's).</param>
/// <param name="BlobSha1">The git blob id ("oid"); for an LFS file, the pointer's.</param>
/// <param name="LfsSha256">The LFS object's sha256 ("lfs.oid"), or null for a file kept in git.</param>
public sealed record HubTreeEntry(string Path, long Size, string BlobSha1, string? LfsSha256)
{
    /// <summary>The check for the file's bytes: the LFS sha256 when there is one, else the blob sha1.</summary>
    public FileDigest Digest => LfsSha256 is { } sha256
        ? new FileDigest(DigestAlgorithm.Sha256, sha256, Size)
        : new FileDigest(DigestAlgorithm.GitBlobSha1, BlobSha1, Size);
}
