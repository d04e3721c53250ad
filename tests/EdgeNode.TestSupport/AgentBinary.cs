using System.Diagnostics;

namespace EdgeNode.TestSupport;

/// <summary>The published NativeAOT `edgenode` binary (artifacts/bin/edgenode, built by ci/publish-aot), run as a real process.</summary>
public static class AgentBinary
{
    public static string Path
    {
        get
        {
            var path = System.IO.Path.Combine(TestPaths.RepoRoot, "artifacts", "bin", "edgenode");
            if (!File.Exists(path))
                throw new FileNotFoundException($"the AOT binary {path} is missing: run `bash ci/publish-aot` first (ci/test does)");
            return path;
        }
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    /// <summary>Runs the binary with its own EDGENODE_HOME unless the caller gives one; bounded by <paramref name="timeout"/>.</summary>
    public static Result Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null) =>
        RunAt(Path, args, environment, timeout, workingDirectory);

    /// <summary>Runs a copy of the binary at <paramref name="binary"/> (for example one without its library beside it).</summary>
    public static Result RunAt(string binary, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? TestPaths.RepoRoot,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Remove("EDGENODE_DEBUG");
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                if (value is null) psi.Environment.Remove(key);
                else psi.Environment[key] = value;
            }
        }
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgenode {string.Join(' ', psi.ArgumentList)} did not finish in time");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }
}
