using System.Security.Cryptography;
using System.Text;

namespace EdgeNode.Ledger;

/// <summary>
/// Account names. A key's account is named by a hash of the key, so the ledger, receipts and logs never hold a key
/// that could be used; 16 hex digits (64 bits) keep keys apart without naming them.
/// </summary>
public static class AccountIds
{
    /// <summary>The account of requests made with no API key (a loopback-only node): it neither pays nor has a floor.</summary>
    public const string Anonymous = "key-anonymous";

    public static string ForKey(string apiKey) =>
        "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)))[..16];

    /// <summary>A node's id: the hash of its public key, so an id cannot be claimed without the private key.</summary>
    public static string ForNode(ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        "node-" + Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo))[..16];

    public static bool IsKey(string id) => id.StartsWith("key-", StringComparison.Ordinal);

    public static bool IsNode(string id) => id.StartsWith("node-", StringComparison.Ordinal);
}
