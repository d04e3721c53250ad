using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace EdgeNode.Models.Hub;

/// <summary>
/// Hashes a file's bytes as they stream past: always sha256 (what <see cref="PulledFile"/> reports), and the git blob
/// sha1 when that is the check. The blob header needs the size up front, which the hub's listing gives.
/// </summary>
public sealed class FileHasher : IDisposable
{
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash? _blobSha1;

    public FileHasher(FileDigest? digest)
    {
        if (digest is { Algorithm: DigestAlgorithm.GitBlobSha1 })
        {
            var size = digest.Size ?? throw new ArgumentException("a git blob sha1 needs the file's size", nameof(digest));
            _blobSha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            _blobSha1.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {size}\0")));
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        _sha256.AppendData(data);
        _blobSha1?.AppendData(data);
    }

    /// <summary>The sha256, and the value to compare with the expected digest (the same sha256, or the blob sha1).</summary>
    public (string Sha256, string Checked) Finish()
    {
        var sha256 = Convert.ToHexStringLower(_sha256.GetHashAndReset());
        return (sha256, _blobSha1 is null ? sha256 : Convert.ToHexStringLower(_blobSha1.GetHashAndReset()));
    }

    public void Dispose()
    {
        _sha256.Dispose();
        _blobSha1?.Dispose();
    }
}
