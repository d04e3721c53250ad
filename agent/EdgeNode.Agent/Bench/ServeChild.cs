using System.Diagnostics;
using System.Text.Json;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// This binary's own `edgenode serve` as a child process (optionally inside a network namespace), for benchmarks that
/// measure the HTTP path: started on port 0, its address read from its "listening on" log line, killed on dispose.
/// </summary>
public sealed class ServeChild : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _log = [];

    private ServeChild(Process process) => _process = process;

    public string Url { get; private set; } = "";

    public static ServeChild Start(IReadOnlyList<string> serveArgs, IReadOnlyDictionary<string, string> environment, string? netns, TimeSpan timeout)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where this binary is to start `edgenode serve`");
        // Run from a build (`dotnet edgenode.dll`) the process is the dotnet host: the same host runs the same assembly.
        string[] command = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [self, Path.Combine(AppContext.BaseDirectory, "edgenode.dll")] : [self];
        var start = new ProcessStartInfo(netns is null ? command[0] : "ip")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in netns is null ? command[1..] : ["netns", "exec", netns, .. command])
            start.ArgumentList.Add(a);
        start.ArgumentList.Add("serve");
        foreach (var a in serveArgs)
            start.ArgumentList.Add(a);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        var child = new ServeChild(Process.Start(start) ?? throw new InvalidOperationException("could not start `edgenode serve`"));
        child._process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        child._process.OutputDataReceived += (_, _) => { };
        child._process.BeginErrorReadLine();
        child._process.BeginOutputReadLine();
        var exited = child._process.WaitForExitAsync();
        var first = Task.WhenAny(child._listening.Task, exited, Task.Delay(timeout)).GetAwaiter().GetResult();
        if (first != child._listening.Task)
        {
            var why = first == exited ? $"exited with {child._process.ExitCode}" : $"did not listen within {timeout.TotalSeconds:F0} s";
            string log;
            lock (child._log)
                log = string.Join('\n', child._log.TakeLast(10));
            child.Dispose();
            throw new InvalidOperationException($"edgenode serve {why}: {log}");
        }
        child.Url = child._listening.Task.Result;
        return child;
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.Add(line);
        if (!line.Contains("listening on", StringComparison.Ordinal))
            return;
        try
        {
            using var json = JsonDocument.Parse(line);
            _listening.TrySetResult(json.RootElement.GetProperty("State").GetProperty("Url").GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            _listening.TrySetException(new InvalidOperationException($"unexpected log line: {line}"));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
