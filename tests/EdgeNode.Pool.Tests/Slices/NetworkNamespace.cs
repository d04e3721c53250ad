using System.Diagnostics;
using System.Runtime.InteropServices;

namespace EdgeNode.Pool.Tests.Slices;

/// <summary>
/// A network namespace the test creates (ip netns) and removes. <see cref="Enter{T}"/> runs a synchronous piece of code
/// with the calling thread inside it: a socket created there belongs to the namespace for good, so one test process
/// can hold a server in one namespace and a client in another. Needs root.
/// </summary>
internal sealed partial class NetworkNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    public static NetworkNamespace Create(string name)
    {
        Ip($"netns add {name}");
        var ns = new NetworkNamespace(name);
        ns.Exec("ip link set lo up");
        return ns;
    }

    /// <summary>Runs a command inside the namespace (ip netns exec), failing with its stderr.</summary>
    public void Exec(string command) => Run("ip", $"netns exec {Name} {command}");

    public static void Ip(string arguments) => Run("ip", arguments);

    /// <summary>Runs <paramref name="action"/> on this thread inside the namespace, then puts the thread back where it was.</summary>
    public T Enter<T>(Func<T> action)
    {
        using var home = File.OpenHandle($"/proc/self/task/{Gettid()}/ns/net");
        using var target = File.OpenHandle($"/var/run/netns/{Name}");
        if (Setns((int)target.DangerousGetHandle(), CloneNewNet) != 0)
            throw new InvalidOperationException($"setns into {Name} failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            return action();
        }
        finally
        {
            if (Setns((int)home.DangerousGetHandle(), CloneNewNet) != 0)
                Environment.FailFast($"setns back out of {Name} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        try { Ip($"netns del {Name}"); } catch (InvalidOperationException) { }
    }

    private static void Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new InvalidOperationException($"{file} {arguments}: no exit within 10 s");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {arguments}: exit {process.ExitCode}: {error.Result.Trim()}");
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int Setns(int fd, int nstype);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int Gettid();
}
