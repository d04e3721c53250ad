namespace EdgeNode.Models.Hub;

/// <summary>A file of a pulled model, complete and in place.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="Sha256">Its sha256 in lowercase hex.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Origin">How it got there.</param>
/// <param name="CheckedAgainst">Who vouches for the hash it matched.</param>
public sealed record PulledFile(string Path, string Sha256, long Bytes, PulledFileOrigin Origin, DigestSource CheckedAgainst)
{
    /// <summary>
    /// Whether a hash from outside the mirror (pinned, or the hub's) vouches for the file; a mirror's copy checked only
    /// against the mirror's own SHA256SUMS is intact but unverified.
    /// </summary>
    public bool Verified => CheckedAgainst != DigestSource.Mirror;
}
