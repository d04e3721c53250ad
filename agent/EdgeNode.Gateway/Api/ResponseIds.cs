using System.Security.Cryptography;

namespace EdgeNode.Gateway.Api;

/// <summary>Response ids in OpenAI's style: a prefix and 24 random hex digits ("cmpl-…", "chatcmpl-…").</summary>
internal static class ResponseIds
{
    public static string New(string prefix) => $"{prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
}
