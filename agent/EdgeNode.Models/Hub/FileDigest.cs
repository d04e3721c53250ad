namespace EdgeNode.Models.Hub;

/// <summary>What a file must hash to.</summary>
/// <param name="Algorithm">The hash.</param>
/// <param name="Hex">Expected value, lowercase hex.</param>
/// <param name="Size">Expected size; required for <see cref="DigestAlgorithm.GitBlobSha1"/>, whose header holds it.</param>
public sealed record FileDigest(DigestAlgorithm Algorithm, string Hex, long? Size)
{
    /// <summary>Who vouches for <see cref="Hex"/>.</summary>
    public DigestSource Source { get; init; } = DigestSource.Pinned;

    /// <summary>"sha256" or "git blob sha1", for messages.</summary>
    public string AlgorithmName => Algorithm == DigestAlgorithm.Sha256 ? "sha256" : "git blob sha1";

    /// <summary>A hasher for this digest that also computes the sha256 every pulled file reports.</summary>
    public FileHasher NewHasher() => new(this);
}
