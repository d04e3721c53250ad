using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>A real mosquitto on a free loopback port, started from a temporary config; killed on dispose.</summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly string _folder;
    private Process? _process;

    public MosquittoBroker()
    {
        _folder = Directory.CreateTempSubdirectory("edgenode-mosquitto-").FullName;
        Port = FreePort();
        File.WriteAllText(Path.Combine(_folder, "mosquitto.conf"), $"""
            listener {Port} 127.0.0.1
            allow_anonymous true
            persistence false

            """);
        Start();
    }

    public int Port { get; }

    public void Start()
    {
        var info = new ProcessStartInfo("mosquitto", ["-c", Path.Combine(_folder, "mosquitto.conf")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info) ?? throw new InvalidOperationException("mosquitto did not start (is it installed? ci/install installs it)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitForPort(Port, TimeSpan.FromSeconds(10));
    }

    /// <summary>Kills the broker (as a crash would: retained messages are lost, persistence is off).</summary>
    public void Stop()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Stop();
        Directory.Delete(_folder, true);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static void WaitForPort(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }
}
