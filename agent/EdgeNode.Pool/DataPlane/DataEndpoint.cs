using System.Globalization;
using System.Net;

namespace EdgeNode.Pool.DataPlane;

/// <summary>A data-plane address as plans write it: "host:port", "1.2.3.4:port" or "[v6]:port".</summary>
public static class DataEndpoint
{
    public static (string Host, int Port) Parse(string endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (IPEndPoint.TryParse(endpoint, out var ip) && ip.Port != 0)
            return (ip.Address.ToString(), ip.Port);
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new FormatException($"data endpoint '{endpoint}' is not HOST:PORT (e.g. 192.168.1.20:7470)");
        return (endpoint[..colon].Trim('[', ']'), port);
    }

    public static string Format(IPEndPoint endpoint) =>
        endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{endpoint.Address}]:{endpoint.Port}"
            : $"{endpoint.Address}:{endpoint.Port}";
}
