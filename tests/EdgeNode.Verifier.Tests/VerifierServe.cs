using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// A real `edgenode serve` (the NativeAOT binary) with the verifier on its listener: started on the given port (0 picks
/// one), its address read from the "listening on" log line; <see cref="Dispose"/> kills it.
/// </summary>
public sealed class VerifierServe : IDisposable
{
    public const string Key = "sk-edgenode-verifier-test";

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private VerifierServe(Process process) => _process = process;

    public string Url { get; private set; } = "";

    public int Port => new Uri(Url).Port;

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public static VerifierServe Start(string home, int port, params string[] models)
    {
        var start = new ProcessStartInfo(AgentBinary.Path) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "serve", "--listen", $"127.0.0.1:{port}", "--threads", "1", "--verifier-idle", "2", "--ip-rpm", "0", "--key-rpm", "0" })
            start.ArgumentList.Add(a);
        foreach (var m in models)
        {
            start.ArgumentList.Add("--model");
            start.ArgumentList.Add(m);
        }
        start.Environment["EDGENODE_HOME"] = home;
        start.Environment["EDGENODE_API_KEYS"] = Key;
        start.Environment.Remove("EDGENODE_DEBUG");
        var serve = new VerifierServe(Process.Start(start)!);
        serve._process.ErrorDataReceived += (_, e) => serve.OnLine(e.Data);
        serve._process.OutputDataReceived += (_, _) => { };
        serve._process.BeginErrorReadLine();
        serve._process.BeginOutputReadLine();
        var exited = serve._process.WaitForExitAsync();
        var first = Task.WhenAny(serve._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60))).GetAwaiter().GetResult();
        if (first != serve._listening.Task)
        {
            serve.Dispose();
            throw new InvalidOperationException($"edgenode serve did not start: {serve.Stderr}");
        }
        serve.Url = serve._listening.Task.Result;
        return serve;
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_stderr)
            _stderr.AppendLine(line);
        if (!line.Contains("listening on", StringComparison.Ordinal))
            return;
        using var json = JsonDocument.Parse(line);
        _listening.TrySetResult(json.RootElement.GetProperty("State").GetProperty("Url").GetString()!);
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL: no goodbye, as in a crash; its sessions are gone with it.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(15_000);
        }
        _process.Dispose();
    }
}
