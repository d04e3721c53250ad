using System.Runtime.InteropServices;

namespace EdgeNode.TestSupport;

/// <summary>
/// Runs a synchronous piece of code with the calling thread inside a network namespace (setns), then puts the thread
/// back. A socket created there belongs to that namespace for good, so one test process can hold a server on one
/// <see cref="EdgeNode.Pool.Bench.LabHost"/> and a client on another, each listening or connecting from its own host. Needs root.
/// </summary>
public static class NetworkNamespaceEntry
{
    private const int CloneNewNet = 0x40000000;

    public static T Run<T>(string networkNamespace, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(networkNamespace);
        ArgumentNullException.ThrowIfNull(action);
        using var home = File.OpenHandle($"/proc/self/task/{Gettid()}/ns/net");
        using var target = File.OpenHandle($"/var/run/netns/{networkNamespace}");
        if (Setns((int)target.DangerousGetHandle(), CloneNewNet) != 0)
            throw new InvalidOperationException($"setns into {networkNamespace} failed: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            return action();
        }
        finally
        {
            // A pool thread left in another namespace would put later, unrelated sockets there: never go on from that.
            if (Setns((int)home.DangerousGetHandle(), CloneNewNet) != 0)
                Environment.FailFast($"setns back out of {networkNamespace} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int Setns(int fd, int nstype);

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int Gettid();
}
