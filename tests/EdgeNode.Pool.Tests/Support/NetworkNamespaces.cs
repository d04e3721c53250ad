using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>
/// Hosts on a private link: network namespaces whose veth ends meet on a bridge in a namespace of its own, each
/// with an address in 10.x.y.0/24 and a 224.0.0.0/4 route so multicast crosses. Removed on dispose. Needs root.
/// Code runs "inside" a host by creating its sockets on a thread that entered the namespace (setns): a socket stays
/// in the namespace it was made in, whatever thread uses it later.
/// </summary>
public sealed partial class NetworkNamespaces : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private readonly string _tag = Guid.NewGuid().ToString("N")[..6];
    private readonly List<string> _namespaces = [];

    public NetworkNamespaces(int hosts)
    {
        var subnet = Random.Shared.Next(16, 250);
        Bridge = $"enb{_tag}";
        try
        {
            Ip($"netns add {Bridge}");
            _namespaces.Add(Bridge);
            Ip($"-n {Bridge} link add br0 type bridge");
            Ip($"-n {Bridge} link set br0 up");
            for (var i = 0; i < hosts; i++)
            {
                var ns = $"enh{_tag}{i}";
                Ip($"netns add {ns}");
                _namespaces.Add(ns);
                Ip($"link add v{_tag}{i} type veth peer name b{_tag}{i}");
                Ip($"link set v{_tag}{i} netns {ns}");
                Ip($"link set b{_tag}{i} netns {Bridge}");
                Ip($"-n {Bridge} link set b{_tag}{i} master br0");
                Ip($"-n {Bridge} link set b{_tag}{i} up");
                var address = $"10.{subnet}.0.{i + 1}";
                Ip($"-n {ns} addr add {address}/24 dev v{_tag}{i}");
                Ip($"-n {ns} link set v{_tag}{i} up");
                Ip($"-n {ns} link set lo up");
                Ip($"-n {ns} route add 224.0.0.0/4 dev v{_tag}{i}");
                Hosts.Add((ns, address));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Bridge { get; }

    public List<(string Namespace, string Address)> Hosts { get; } = [];

    public static bool CanCreate => Environment.UserName == "root" || geteuid() == 0;

    /// <summary>Runs <paramref name="work"/> on a thread inside host <paramref name="host"/>'s namespace.</summary>
    public T In<T>(int host, Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{Hosts[host].Namespace}");
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns into {Hosts[host].Namespace} failed: errno {Marshal.GetLastPInvokeError()}");
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(30)))
            throw new TimeoutException("work inside the namespace did not finish in 30 s");
        if (failure is not null)
            throw failure;
        return result;
    }

    public void Dispose()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces))
            Run("ip", $"netns del {ns}", throwOnError: false);
        _namespaces.Clear();
    }

    private static void Ip(string args) => Run("ip", args, throwOnError: true);

    private static void Run(string file, string args, bool throwOnError)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(10_000))
        {
            p.Kill();
            throw new TimeoutException($"{file} {args} did not finish");
        }
        if (throwOnError && p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}): {err.Trim()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
