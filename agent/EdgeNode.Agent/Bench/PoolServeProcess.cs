using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeNode.Pool.Bench;

namespace EdgeNode.Agent.Bench;

/// <summary>The slice a pool node logged it serves: "plan M epoch E: serving layers [a,b) embed=… head=…".</summary>
internal readonly record struct ServedSlice(long Epoch, int FirstLayer, int EndLayer, bool Embed, bool Head);

/// <summary>
/// One real `edgenode serve --pool` process for `edgenode bench --pool`, optionally inside a <see cref="NetworkLab"/>
/// host's namespace (`ip netns exec` execs the binary, so the process is the node). Its JSON log lines on stderr are
/// read for its HTTP address, the slice it serves and any refusal; SIGTERM on dispose (it leaves the pool first).
/// </summary>
internal sealed class PoolServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = [];
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServedSlice? _serving;
    private string? _refusal;
    private string? _building;
    private int _disposed;

    private PoolServeProcess(string nodeId, Process process)
    {
        NodeId = nodeId;
        _process = process;
    }

    public string NodeId { get; }

    /// <summary>The HTTP API's base URL, once it listens.</summary>
    public string Url => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : "";

    public bool HasExited => _process.HasExited;

    public ServedSlice? Serving
    {
        get { lock (_log) return _serving; }
    }

    /// <summary>Why the node refused its slice, when it did.</summary>
    public string? Refusal
    {
        get { lock (_log) return _refusal; }
    }

    /// <summary>The newest slice-building progress line, taken (null when none came since the last call).</summary>
    public string? TakeBuildingProgress()
    {
        lock (_log)
        {
            var line = _building;
            _building = null;
            return line;
        }
    }

    public string Tail(int lines = 8)
    {
        lock (_log)
            return string.Join('\n', _log.TakeLast(lines));
    }

    /// <param name="binary">The edgenode binary (or a dotnet host, then edgenode.dll beside this assembly is run).</param>
    public static PoolServeProcess Start(string binary, LabHost? host, string nodeId, IReadOnlyList<string> serveArgs, IReadOnlyDictionary<string, string> environment)
    {
        string[] command = Path.GetFileNameWithoutExtension(binary) == "dotnet" ? [binary, Path.Combine(AppContext.BaseDirectory, "edgenode.dll")] : [binary];
        var start = new ProcessStartInfo(host is null ? command[0] : "ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in host is null ? command[1..] : ["netns", "exec", host.Namespace, .. command])
            start.ArgumentList.Add(a);
        start.ArgumentList.Add("serve");
        foreach (var a in serveArgs)
            start.ArgumentList.Add(a);
        start.Environment.Remove("EDGENODE_DEBUG");
        start.Environment.Remove("EDGENODE_API_KEYS");
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var node = new PoolServeProcess(nodeId, Process.Start(start) ?? throw new InvalidOperationException($"could not start `edgenode serve` for {nodeId}"));
        node._process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        node._process.OutputDataReceived += (_, _) => { };
        node._process.BeginErrorReadLine();
        node._process.BeginOutputReadLine();
        return node;
    }

    /// <summary>Waits until the HTTP API listens; throws with the node's last log lines when it exits or takes too long.</summary>
    public void WaitForListening(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        var first = Task.WhenAny(_listening.Task, exited, Task.Delay(timeout)).GetAwaiter().GetResult();
        if (first == _listening.Task)
            return;
        var why = first == exited ? $"exited with code {_process.ExitCode}" : $"did not listen within {timeout.TotalSeconds:F0} s";
        throw new InvalidOperationException($"pool node {NodeId} (edgenode serve) {why}: {Tail()}");
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_log)
        {
            _log.Add(line);
            if (_log.Count > 200)
                _log.RemoveRange(0, 100);
        }
        if (!line.StartsWith('{'))
            return;
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var message = root.TryGetProperty("Message", out var m) ? m.GetString() ?? "" : "";
            if (!root.TryGetProperty("State", out var state))
                return;
            if (message.Contains("listening on", StringComparison.Ordinal) && state.TryGetProperty("Url", out var url))
            {
                _listening.TrySetResult(url.GetString()!);
            }
            else if (message.Contains("serving layers", StringComparison.Ordinal))
            {
                var slice = new ServedSlice(Long(state, "Epoch"), (int)Long(state, "FirstLayer"), (int)Long(state, "EndLayer"), Bool(state, "Embed"), Bool(state, "Head"));
                lock (_log)
                    _serving = slice;
            }
            else if (message.Contains("refused:", StringComparison.Ordinal))
            {
                lock (_log)
                    _refusal = message;
            }
            else if (message.Contains("building slice", StringComparison.Ordinal))
            {
                lock (_log)
                    _building = message;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // A line that is not the logger's JSON (ONNX Runtime's own output): kept in the tail only.
        }
    }

    // The JSON console logger writes numbers and booleans either as JSON values or as their text: read both.
    private static long Long(JsonElement state, string name) => state.GetProperty(name) is var v && v.ValueKind == JsonValueKind.Number
        ? v.GetInt64()
        : long.Parse(v.GetString()!, CultureInfo.InvariantCulture);

    private static bool Bool(JsonElement state, string name) => state.GetProperty(name) is var v && v.ValueKind is JsonValueKind.True or JsonValueKind.False
        ? v.GetBoolean()
        : bool.Parse(v.GetString()!);

    /// <summary>SIGTERM (the node leaves the pool), then a kill if it has not stopped in 10 s.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        if (!_process.HasExited)
        {
            try
            {
                using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
                    term.WaitForExit(5000);
                if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
                    _process.Kill();
            }
            catch (InvalidOperationException)
            {
                // it exited meanwhile
            }
        }
        _process.WaitForExit(10_000);
        _process.Dispose();
    }
}
