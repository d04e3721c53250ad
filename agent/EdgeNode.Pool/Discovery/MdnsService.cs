using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace EdgeNode.Pool.Discovery;

/// <summary>The DNS-SD names and the mDNS group address a pool's broker is advertised under.</summary>
public static class MdnsService
{
    /// <summary>The service type: a PTR query for it lists every pool on the link.</summary>
    public const string ServiceType = "_edgenode._tcp.local";

    public static readonly IPEndPoint Group = new(IPAddress.Parse("224.0.0.251"), 5353);

    /// <summary>A pool's service instance; its TXT record carries pool=, broker= and v=.</summary>
    public static string InstanceName(string pool) => $"{pool}.{ServiceType}";

    /// <summary>Seconds a record may be cached (RFC 6762 recommends 120 s for records naming a host).</summary>
    public const uint Ttl = 120;

    /// <summary>This namespace's IPv4 interfaces that can carry multicast (loopback included), with one address each.</summary>
    internal static IReadOnlyList<(int Index, IPAddress Address, bool Loopback)> Interfaces()
    {
        var list = new List<(int, IPAddress, bool)>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus is not (OperationalStatus.Up or OperationalStatus.Unknown))
                continue;
            var loopback = nic.NetworkInterfaceType == NetworkInterfaceType.Loopback;
            if (!loopback && !nic.SupportsMulticast)
                continue;
            var props = nic.GetIPProperties();
            var v4 = props.GetIPv4Properties();
            if (v4 is null)
                continue;
            foreach (var a in props.UnicastAddresses)
            {
                if (a.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    list.Add((v4.Index, a.Address, loopback));
                    break;
                }
            }
        }
        return list;
    }
}
