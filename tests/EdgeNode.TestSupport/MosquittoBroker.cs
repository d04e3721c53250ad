using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace EdgeNode.TestSupport;

/// <summary>
/// A real mosquitto broker (Debian's, installed by ci/install --test) on a port of its own, with anonymous access,
/// optionally bound to one address (the bridge of a <see cref="EdgeNode.Pool.Bench.NetworkLab"/>). Killed on <see cref="Dispose"/>.
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _folder;
    private readonly StringBuilder _log = new();

    private MosquittoBroker(Process process, TempDirectory folder, string address, int port)
    {
        _process = process;
        _folder = folder;
        Address = address;
        Port = port;
    }

    public string Address { get; }
    public int Port { get; }

    /// <summary>The URL EdgeNode's --broker takes.</summary>
    public string Url => $"mqtt://{Address}:{Port}";

    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public static MosquittoBroker Start(string address = "127.0.0.1", int? port = null, string? extraConfig = null)
    {
        var chosen = port ?? FreePort(address);
        var folder = TestPaths.NewTempDirectory("mosquitto");
        var config = folder.File("mosquitto.conf");
        File.WriteAllText(config, $"""
            listener {chosen} {address}
            allow_anonymous true
            persistence false
            log_dest stderr
            {extraConfig ?? ""}
            """);
        var start = new ProcessStartInfo("mosquitto", ["-c", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            folder.Dispose();
            throw new InvalidOperationException($"mosquitto could not start ({e.Message}); `bash ci/install --test` installs it", e);
        }
        var broker = new MosquittoBroker(process, folder, address, chosen);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (broker._log) broker._log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                var log = broker.Log;
                broker.Dispose();
                throw new InvalidOperationException($"mosquitto exited with {process.ExitCode}: {log}");
            }
            if (Accepts(address, chosen))
                return broker;
            Thread.Sleep(50);
        }
        broker.Dispose();
        throw new InvalidOperationException($"mosquitto did not accept connections on {address}:{chosen} within 10 s");
    }

    /// <summary>A TCP port nobody listens on at <paramref name="address"/> right now.</summary>
    public static int FreePort(string address = "127.0.0.1")
    {
        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Accepts(string address, int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(IPAddress.Parse(address), port).Wait(TimeSpan.FromMilliseconds(500));
        }
        catch (Exception e) when (e is SocketException or AggregateException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        _folder.Dispose();
    }
}
