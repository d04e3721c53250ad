using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Api;

/// <summary>
/// "Authorization: Bearer KEY" against the configured keys. Keys are compared in constant time over their UTF-8
/// bytes, so the answer's timing says nothing about how much of a guess was right.
/// </summary>
internal sealed class BearerKeys
{
    private readonly byte[][] _keys;

    public BearerKeys(IReadOnlyList<string> keys) => _keys = [.. keys.Select(k => Encoding.UTF8.GetBytes(k))];

    public bool Required => _keys.Length > 0;

    /// <summary>
    /// The index of the configured key the request presents (-1 when no key is required); throws the 401 OpenAI
    /// answers with when the key is missing or wrong.
    /// </summary>
    public int Check(HttpRequest request)
    {
        if (!Required)
            return -1;
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header.Length == scheme.Length)
            throw ApiError.MissingKey();
        var presented = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        var match = -1;
        // Every key is compared, so which key matched (or none) does not show in the time taken either.
        for (var i = 0; i < _keys.Length; i++)
        {
            var equal = CryptographicOperations.FixedTimeEquals(_keys[i], presented);
            match = equal ? i : match;
        }
        if (match < 0)
            throw ApiError.WrongKey();
        return match;
    }
}
