using System.Runtime.InteropServices;
using EdgeNode.Pool.Bench;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>
/// Runs code "on" a <see cref="NetworkLab"/> host without a process of its own: a fresh thread enters the host's
/// network namespace (setns) and runs the code there. Sockets made on that thread stay in that namespace whatever
/// thread uses them later, so an advertiser or browser constructed this way lives on the host.
/// </summary>
public static partial class NamespaceThread
{
    private const int CloneNewNet = 0x40000000;

    public static T Run<T>(LabHost host, Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{host.Namespace}");
                if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new InvalidOperationException($"setns into {host.Namespace} failed: errno {Marshal.GetLastPInvokeError()}");
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(30)))
            throw new TimeoutException($"work inside {host.Namespace} did not finish in 30 s");
        if (failure is not null)
            throw failure;
        return result;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
