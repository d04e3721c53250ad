using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
namespace EdgeNode.TestSupport;

/// <summary>
/// A real `edgenode serve` (the NativeAOT binary) on a free loopback port: started with port 0, its address read from
/// the "listening on" log line; stopped with SIGTERM, as a service manager would.
/// </summary>
public sealed partial class ServeProcess : IDisposable
{
    private const int Sigterm = 15;

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process) => _process = process;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The OpenAI clients' base URL: the server's address and /v1.</summary>
    public string ApiBase => BaseUrl + "/v1";

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public static ServeProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment, TimeSpan? startTimeout = null)
    {
        var start = new ProcessStartInfo(AgentBinary.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        start.ArgumentList.Add("serve");
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment.Remove("EDGENODE_DEBUG");
        foreach (var (key, value) in environment)
        {
            if (value is null) start.Environment.Remove(key);
            else start.Environment[key] = value;
        }
        var serve = new ServeProcess(Process.Start(start)!);
        serve._process.ErrorDataReceived += (_, e) => serve.OnStderr(e.Data);
        serve._process.OutputDataReceived += (_, _) => { };
        serve._process.BeginErrorReadLine();
        serve._process.BeginOutputReadLine();
        var limit = startTimeout ?? TimeSpan.FromSeconds(60);
        var exited = serve._process.WaitForExitAsync();
        var first = Task.WhenAny(serve._listening.Task, exited, Task.Delay(limit)).GetAwaiter().GetResult();
        if (first != serve._listening.Task)
        {
            var why = first == exited ? $"exited with {serve._process.ExitCode}" : $"did not log 'listening on' within {limit.TotalSeconds:F0} s";
            serve.Dispose();
            throw new InvalidOperationException($"edgenode serve {why}: {serve.Stderr}");
        }
        serve.BaseUrl = serve._listening.Task.Result;
        return serve;
    }

    /// <summary>Runs `edgenode serve` expecting it to refuse to start; returns its exit code and stderr.</summary>
    public static AgentBinary.Result RunExpectingFailure(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment) =>
        AgentBinary.Run(["serve", .. args], environment, TimeSpan.FromSeconds(60));

    private void OnStderr(string? line)
    {
        if (line is null)
            return;
        lock (_stderr)
            _stderr.AppendLine(line);
        if (!line.Contains("listening on", StringComparison.Ordinal))
            return;
        using var log = JsonDocument.Parse(line);
        _listening.TrySetResult(log.RootElement.GetProperty("State").GetProperty("Url").GetString()!);
    }

    /// <summary>Sends SIGTERM and waits; returns the exit code, or null if it did not stop in time (then it is killed).</summary>
    public int? Terminate(TimeSpan timeout)
    {
        if (_process.HasExited)
            return _process.ExitCode;
        _ = Kill(_process.Id, Sigterm);
        if (_process.WaitForExit(timeout))
        {
            _process.WaitForExit();
            return _process.ExitCode;
        }
        _process.Kill(entireProcessTree: true);
        return null;
    }

    /// <summary>SIGKILL: the process gets no chance to finish anything, as in a power cut or the OOM killer.</summary>
    public void KillHard()
    {
        if (_process.HasExited)
            return;
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Terminate(TimeSpan.FromSeconds(15));
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
