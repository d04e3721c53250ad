using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeNode.Agent.Peers;

/// <summary>
/// Native llama.cpp as the decode peer: runs llama-bench built for this CPU by ci/build-llama-cpp
/// (artifacts/llama.cpp/&lt;commit&gt;-native/bin) as a process and reads its JSON. node-llama-cpp's prebuilt binary
/// and per-token JavaScript loop make it a weaker stand-in; this is the peer a user who builds llama.cpp would see.
/// </summary>
public static class LlamaBenchPeer
{
    /// <summary>Points at a llama-bench binary when it is not under artifacts/llama.cpp above the binary or cwd.</summary>
    public const string BinaryVariable = "EDGENODE_LLAMA_BENCH";

    private const string NotBuilt = "build it with `bash ci/build-llama-cpp`, or pass --llama-bench F";

    /// <summary>The llama-bench to use: <paramref name="explicitPath"/>, then $EDGENODE_LLAMA_BENCH, then the newest ci/build-llama-cpp build.</summary>
    public static string? Find(string? explicitPath)
    {
        if (explicitPath is not null)
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new LlamaCppPeerException($"--llama-bench {explicitPath}: no such file; {NotBuilt}");
        var fromEnvironment = Environment.GetEnvironmentVariable(BinaryVariable);
        if (!string.IsNullOrEmpty(fromEnvironment) && File.Exists(fromEnvironment))
            return Path.GetFullPath(fromEnvironment);
        foreach (var origin in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(origin); dir is not null; dir = dir.Parent)
            {
                var builds = new DirectoryInfo(Path.Combine(dir.FullName, "artifacts", "llama.cpp"));
                if (!builds.Exists)
                    continue;
                var newest = builds.GetDirectories("*-native")
                    .Select(d => new FileInfo(Path.Combine(d.FullName, "bin", "llama-bench")))
                    .Where(f => f.Exists)
                    .OrderByDescending(f => f.LastWriteTimeUtc)
                    .FirstOrDefault();
                if (newest is not null)
                    return newest.FullName;
            }
        }
        return null;
    }

    /// <summary>Decode only (-p 0): <paramref name="tokens"/> tokens, <paramref name="repetitions"/> times, on <paramref name="threads"/> threads.</summary>
    public static LlamaBenchRun Run(string binary, string ggufPath, int tokens, int threads, int repetitions, TimeSpan timeout,
        IReadOnlyList<string>? extraArguments = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        if (!File.Exists(ggufPath))
            throw new FileNotFoundException($"GGUF model not found: {ggufPath}", ggufPath);
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[]
                 {
                     "-m", Path.GetFullPath(ggufPath), "-p", "0", "-n", tokens.ToString(CultureInfo.InvariantCulture),
                     "-t", threads.ToString(CultureInfo.InvariantCulture), "-r", repetitions.ToString(CultureInfo.InvariantCulture), "-o", "json",
                 })
            start.ArgumentList.Add(arg);
        foreach (var arg in extraArguments ?? [])
            start.ArgumentList.Add(arg);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LlamaCppPeerException($"could not start {binary}: {e.Message}; {NotBuilt}", e);
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            throw new LlamaCppPeerException($"llama-bench did not finish within {timeout.TotalSeconds:0.#} s and was stopped");
        }
        process.WaitForExit();
        var output = stdout.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
            throw new LlamaCppPeerException($"llama-bench exited with code {process.ExitCode}: {Tail(stderr.GetAwaiter().GetResult())}");
        var (tokS, stddev, commit) = Parse(output);
        return new LlamaBenchRun(tokS, stddev, BuildCommit(binary) ?? commit, BuildFlags(binary), binary);
    }

    /// <summary>llama-bench's JSON (an array with one test): avg_ts, stddev_ts and build_commit.</summary>
    public static (double TokS, double StddevTokS, string Commit) Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Array || doc.RootElement.GetArrayLength() == 0)
                throw new LlamaCppPeerException($"llama-bench printed no test: {Tail(json)}");
            var test = doc.RootElement[0];
            var tokS = test.GetProperty("avg_ts").GetDouble();
            var stddev = test.TryGetProperty("stddev_ts", out var s) ? s.GetDouble() : 0;
            var commit = test.TryGetProperty("build_commit", out var c) ? c.GetString() ?? "unknown" : "unknown";
            return (tokS, stddev, commit);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new LlamaCppPeerException($"llama-bench printed an unreadable result '{Tail(json)}': {e.Message}", e);
        }
    }

    // ci/build-llama-cpp leaves commit.txt and flags.txt beside bin/.
    private static string? BuildCommit(string binary)
    {
        var file = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(binary)!)!, "commit.txt");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    private static string BuildFlags(string binary)
    {
        var file = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(binary)!)!, "flags.txt");
        return File.Exists(file)
            ? string.Join(' ', File.ReadAllLines(file).Where(l => l.Length > 0))
            : "unknown";
    }

    private static string Tail(string text)
    {
        const int Keep = 2000;
        text = text.Trim();
        return text.Length <= Keep ? text : "…" + text[^Keep..];
    }
}
