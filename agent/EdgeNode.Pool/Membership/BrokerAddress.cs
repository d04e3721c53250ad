using System.Globalization;

namespace EdgeNode.Pool.Membership;

/// <summary>
/// Where the pool's broker is: `mqtt://[user:password@]host[:port]` (plain TCP, default port 1883) or `mqtts://…`
/// (TLS, default 8883); a bare `host[:port]` means mqtt://. Credentials may also come from the options.
/// </summary>
public sealed record BrokerAddress(string Host, int Port, bool Tls = false, string? UserName = null, string? Password = null)
{
    public const int DefaultTlsPort = 8883;

    public static BrokerAddress Parse(string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "mqtt://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new ArgumentException($"broker '{text}' is not an address; use mqtt://HOST:PORT (or mqtts:// for TLS)");
        var tls = uri.Scheme switch
        {
            "mqtt" or "tcp" => false,
            "mqtts" or "ssl" => true,
            _ => throw new ArgumentException($"broker '{text}' has scheme '{uri.Scheme}'; use mqtt:// or mqtts://"),
        };
        if (uri.AbsolutePath is not ("" or "/"))
            throw new ArgumentException($"broker '{text}' has a path; use mqtt://HOST:PORT");
        string? user = null, password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        var port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? DefaultTlsPort : PoolProtocol.DefaultBrokerPort) : uri.Port;
        return new BrokerAddress(uri.Host.Trim('[', ']'), port, tls, user, password);
    }

    /// <summary>The address without credentials: safe for logs, TXT records and error messages.</summary>
    public override string ToString()
    {
        var host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        return string.Create(CultureInfo.InvariantCulture, $"{(Tls ? "mqtts" : "mqtt")}://{host}:{Port}");
    }
}
