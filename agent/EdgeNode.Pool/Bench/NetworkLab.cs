using System.Diagnostics;
using System.Security.Cryptography;

namespace EdgeNode.Pool.Bench;

/// <summary>
/// A small LAN made of network namespaces: one Linux bridge (the switch) in this namespace and one namespace per
/// host, each joined to the bridge by a veth pair and given an address on a private /24. The bridge itself holds
/// the .1 address, so a process in the test's own namespace (a client, a broker) reaches every host. Multicast is
/// routed on each host's link, so mDNS crosses the bridge. Everything is removed on <see cref="Dispose"/>.
/// `edgenode bench --pool --net veth` puts each node in one of these hosts; the multi-host tests do the same.
/// Needs root; a clear error otherwise.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    private readonly string _id;
    private readonly List<LabHost> _hosts = [];
    private bool _bridgeCreated;

    private NetworkLab(string id, int subnet)
    {
        _id = id;
        Subnet = subnet;
    }

    /// <summary>The third octet of 10.213.X.0/24, chosen at random so labs of concurrent runs do not collide.</summary>
    public int Subnet { get; }

    public string BridgeName => $"enb{_id}";

    /// <summary>The bridge's address: how a host reaches a service that runs in the test's own namespace.</summary>
    public string BridgeAddress => $"10.213.{Subnet}.1";

    public IReadOnlyList<LabHost> Hosts => _hosts;

    public static bool IsRoot => Environment.IsPrivilegedProcess;

    /// <summary>Makes the bridge and <paramref name="hosts"/> namespaces named by their index (host 0 is .10, host 1 .11, …).</summary>
    public static NetworkLab Create(int hosts)
    {
        if (!IsRoot)
            throw new InvalidOperationException("network namespaces need root (ip netns, veth, bridge): run as root (CI runs its tests as root)");
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var lab = new NetworkLab(id, RandomNumberGenerator.GetInt32(1, 250));
        try
        {
            Ip($"link add {lab.BridgeName} type bridge");
            lab._bridgeCreated = true;
            Ip($"addr add {lab.BridgeAddress}/24 dev {lab.BridgeName}");
            Ip($"link set {lab.BridgeName} up");
            for (var i = 0; i < hosts; i++)
                lab.AddHost();
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>One more host on the LAN (a node that joins later).</summary>
    public LabHost AddHost()
    {
        var index = _hosts.Count;
        var host = new LabHost($"en-{_id}-{index}", $"ve{_id}h{index}", $"10.213.{Subnet}.{10 + index}");
        var inner = $"ve{_id}n{index}";
        Ip($"netns add {host.Namespace}");
        _hosts.Add(host);
        Ip($"link add {host.BridgePort} type veth peer name {inner}");
        Ip($"link set {inner} netns {host.Namespace}");
        Ip($"-n {host.Namespace} link set {inner} name eth0");
        Ip($"-n {host.Namespace} addr add {host.Address}/24 dev eth0");
        Ip($"-n {host.Namespace} link set eth0 up");
        Ip($"-n {host.Namespace} link set lo up");
        // mDNS goes to 224.0.0.251: without a multicast route the host has no interface to send it from.
        Ip($"-n {host.Namespace} route add 224.0.0.0/4 dev eth0");
        Ip($"link set {host.BridgePort} master {BridgeName}");
        Ip($"link set {host.BridgePort} up");
        return host;
    }

    /// <summary>Limits traffic into <paramref name="host"/> (the bridge side of its link) with a token bucket filter.</summary>
    public static void LimitRate(LabHost host, string rate)
    {
        ArgumentNullException.ThrowIfNull(host);
        Run("tc", $"qdisc replace dev {host.BridgePort} root tbf rate {rate} burst 64kb latency 50ms");
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
            TryRun("ip", $"netns del {host.Namespace}");
        if (_bridgeCreated)
            TryRun("ip", $"link del {BridgeName}");
    }

    private static void Ip(string arguments) => Run("ip", arguments);

    internal static void Run(string command, string arguments)
    {
        var (code, output) = Execute(command, arguments);
        if (code != 0)
            throw new InvalidOperationException($"`{command} {arguments}` failed with exit code {code}: {output.Trim()}");
    }

    private static void TryRun(string command, string arguments) => Execute(command, arguments);

    private static (int Code, string Output) Execute(string command, string arguments)
    {
        var start = new ProcessStartInfo(command, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{command} did not finish in 20 s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
