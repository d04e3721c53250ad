using System.Security.Cryptography;

namespace EdgeNode.Ledger;

/// <summary>
/// This node's signing key: an ECDSA P-256 pair in a PKCS#8 PEM file readable by its owner only (0600), made on the
/// first start. The node's id is the hash of its public key, so a receipt's node id and signature cannot be claimed
/// by a node without the private key.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    private readonly ECDsa _key;

    private NodeIdentity(ECDsa key)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
        NodeId = AccountIds.ForNode(PublicKey);
    }

    public string NodeId { get; }

    /// <summary>The public key, DER SubjectPublicKeyInfo: what pool members register to verify this node's receipts.</summary>
    public byte[] PublicKey { get; }

    /// <summary>Loads the key pair at <paramref name="path"/>, creating it (mode 0600) when missing.</summary>
    public static NodeIdentity LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var pem = fresh.ExportPkcs8PrivateKeyPem();
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                using var file = new StreamWriter(path, options);
                file.Write(pem);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made it first; use theirs.
            }
        }
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                throw new UnauthorizedAccessException($"the node key {path} can be read by other users (mode {Convert.ToString((int)mode, 8)}); run 'chmod 600 {path}' so only its owner can sign receipts");
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new ArgumentException($"the node key {path} is not a PEM private key ({e.Message}); move it away and a new one is made at the next start (the node then has a new id)");
        }
        if (key.KeySize != 256)
        {
            key.Dispose();
            throw new ArgumentException($"the node key {path} is {key.KeySize}-bit; receipts are signed with P-256");
        }
        return new NodeIdentity(key);
    }

    /// <summary>Signs the receipt, which must name this node; returns its header-safe form.</summary>
    public string Sign(Receipt receipt)
    {
        if (receipt.NodeId != NodeId)
            throw new ArgumentException($"a receipt for node {receipt.NodeId} cannot be signed by node {NodeId}");
        var payload = SignedReceipt.Payload(receipt);
        var signature = _key.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return SignedReceipt.Encode(payload, signature);
    }

    public void Dispose() => _key.Dispose();
}
