using System.Net.Sockets;
using System.Text;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// `edgenode serve` as systemd runs a Type=notify service: the test plays systemd's side, a datagram socket named by
/// NOTIFY_SOCKET with a watchdog interval, and reads what the daemon sends.
/// </summary>
public sealed class SystemdNotifyTests
{
    [Fact]
    public void ReadyThenWatchdogKeepAlivesThenStopping()
    {
        using var home = TestPaths.NewTempDirectory("serve-notify");
        var socketPath = home.File("notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        socket.ReceiveTimeout = 20_000;

        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K")],
            new Dictionary<string, string?>
            {
                ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = null,
                ["NOTIFY_SOCKET"] = socketPath,
                // 400 ms: keep-alives every 200 ms, so a few arrive within the test.
                ["WATCHDOG_USEC"] = "400000",
            });
        var messages = new List<string>();
        var buffer = new byte[512];
        // Bounded: READY and three keep-alives, or the 20 s receive timeout fails the test.
        while (messages.Count(m => m == "WATCHDOG=1") < 3)
            messages.Add(Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)).Trim());
        Assert.Contains("READY=1", messages);

        Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(15)));
        var after = new List<string>();
        socket.ReceiveTimeout = 2_000;
        try
        {
            for (var i = 0; i < 50; i++)
                after.Add(Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer)).Trim());
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            // everything sent has been read
        }
        Assert.Contains("STOPPING=1", after);
    }
}
