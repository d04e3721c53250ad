using System.Globalization;
using System.Net;

namespace EdgeNode.Gateway;

/// <summary>Where the API listens: HOST:PORT with an IP address or "localhost" ([::1]:PORT for IPv6); port 0 picks a free one.</summary>
public sealed record ListenAddress(IPAddress Address, int Port)
{
    public static ListenAddress Default { get; } = new(IPAddress.Loopback, 8080);

    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public static ListenAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new ArgumentException($"listen address '{text}' is not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080)");
        var host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new ArgumentException($"listen address '{text}': the port must be a number 0..65535");
        var address = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new ArgumentException($"listen address '{text}': '{host}' is not an IP address (use 127.0.0.1, 0.0.0.0, ::1 or localhost)");
        return new ListenAddress(address, port);
    }

    public override string ToString() => new IPEndPoint(Address, Port).ToString();
}
