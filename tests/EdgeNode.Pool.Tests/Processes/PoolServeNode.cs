using System.Diagnostics;
using System.Text.Json;
using System.Text;
using EdgeNode.Pool.Bench;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Processes;

/// <summary>
/// A real `edgenode serve --pool` (the NativeAOT binary) inside one <see cref="NetworkLab"/> host's namespace
/// (`ip netns exec` execs the binary, so the process id is the node's), with its own EDGENODE_HOME. Its JSON log
/// lines on stderr are kept and read: the epoch it serves and how long it took.
/// </summary>
public sealed class PoolServeNode : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TempDirectory _home;
    private readonly List<(long Epoch, double ReadyMs, double BuildMs, DateTime At)> _serving = [];

    private PoolServeNode(string nodeId, LabHost host, Process process, TempDirectory home)
    {
        NodeId = nodeId;
        Host = host;
        _process = process;
        _home = home;
        StartedAt = DateTime.UtcNow;
    }

    public string NodeId { get; }
    public LabHost Host { get; }
    public DateTime StartedAt { get; }
    public int ProcessId => _process.Id;

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The newest epoch this node logged as serving, with when it logged it; null before the first.</summary>
    public (long Epoch, double ReadyMs, double BuildMs, DateTime At)? Serving
    {
        get { lock (_stderr) return _serving.Count == 0 ? null : _serving[^1]; }
    }

    /// <summary>The node's EDGENODE_HOME (its slices are under slices/).</summary>
    public string HomePath => _home.Path;

    /// <param name="model">The model folder, or null for a node without model files (it fetches its slices from peers).</param>
    /// <param name="extraArgs">More serve options.</param>
    /// <param name="environment">More environment variables (EDGENODE_SYSFS_ROOT for a simulated sensor tree).</param>
    public static PoolServeNode Start(LabHost host, string nodeId, string? model, string? broker, string pool, long maxMemory,
        IReadOnlyList<string>? extraArgs = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var home = TestPaths.NewTempDirectory($"pool-{nodeId}");
        List<string> args = ["serve", "--pool", pool, "--node-id", nodeId, "--max-memory", maxMemory.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--listen", "127.0.0.1:0", "--threads", "1"];
        if (model is not null)
            args.AddRange(["--model", model]);
        args.AddRange(extraArgs ?? []);
        if (broker is not null)
            args.AddRange(["--broker", broker]);
        var (file, arguments) = host.Wrap(AgentBinary.Path, args);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestPaths.RepoRoot,
        };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        start.Environment.Remove("EDGENODE_DEBUG");
        start.Environment["EDGENODE_HOME"] = home.Path;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        var node = new PoolServeNode(nodeId, host, Process.Start(start)!, home);
        node._process.ErrorDataReceived += (_, e) => node.OnStderr(e.Data);
        node._process.OutputDataReceived += (_, _) => { };
        node._process.BeginErrorReadLine();
        node._process.BeginOutputReadLine();
        return node;
    }

    private void OnStderr(string? line)
    {
        if (line is null)
            return;
        lock (_stderr)
        {
            _stderr.AppendLine(line);
            if (!line.Contains("serving layers", StringComparison.Ordinal) || !line.StartsWith('{'))
                return;
            using var log = JsonDocument.Parse(line);
            var state = log.RootElement.GetProperty("State");
            _serving.Add((state.GetProperty("Epoch").GetInt64(), state.GetProperty("ReadyMs").GetDouble(), state.GetProperty("BuildMs").GetDouble(), DateTime.UtcNow));
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Waits (bounded) until a log line contains <paramref name="text"/>.</summary>
    public bool WaitForLog(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            if (Stderr.Contains(text, StringComparison.Ordinal))
                return true;
            Thread.Sleep(50);
        }
        return Stderr.Contains(text, StringComparison.Ordinal);
    }

    /// <summary>SIGKILL: no goodbye, as in a power cut.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM and wait; killed if it does not stop in time.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                term.WaitForExit(5000);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                _process.Kill();
        }
        _process.WaitForExit();
        _process.Dispose();
        _home.Dispose();
    }
}
