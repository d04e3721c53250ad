namespace EdgeNode.Models.Hub;

/// <summary>How a pulled file is checked.</summary>
public enum DigestAlgorithm
{
    /// <summary>sha256 of the bytes: pinned hashes, the hub's LFS oids, SHA256SUMS files.</summary>
    Sha256,

    /// <summary>
    /// The git blob id, sha1("blob " + size + "\0" + bytes): what the hub's listing gives for small files it keeps in
    /// git instead of LFS (config.json, tokenizer.json).
    /// </summary>
    GitBlobSha1,
}
