using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeNode.Agent.Peers;

/// <summary>
/// llama.cpp as a peer implementation for benchmarks and cross-checks: runs node-llama-cpp-peer.mjs
/// (copied beside the binary) under node, with node-llama-cpp from the repository's npm install.
/// </summary>
public static class LlamaCppPeer
{
    public const string ScriptFileName = "node-llama-cpp-peer.mjs";

    /// <summary>Points at a node_modules folder holding node-llama-cpp when it is not found above the binary or cwd.</summary>
    public const string NodeModulesVariable = "EDGENODE_NODE_MODULES";

    private const string NotInstalled = "node-llama-cpp not installed: run `bash ci/install`";

    /// <summary>
    /// Greedy-decodes up to <paramref name="maxTokens"/> tokens after <paramref name="promptTokens"/>
    /// (token ids, so no second tokenizer is involved), stopping at BOS or EOS.
    /// </summary>
    public static LlamaCppRun Run(string ggufPath, IReadOnlyList<int> promptTokens, int maxTokens, int threads, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(ggufPath);
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Count == 0)
            throw new ArgumentException("at least one prompt token (BOS) is needed", nameof(promptTokens));
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!File.Exists(ggufPath))
            throw new FileNotFoundException($"GGUF model not found: {ggufPath}", ggufPath);

        var node = FindNode() ?? throw new LlamaCppPeerException($"node not found on PATH; {NotInstalled}");
        var script = FindScript();
        var nodeModules = FindNodeModules() ?? throw new LlamaCppPeerException(
            $"{NotInstalled} (looked for node_modules/node-llama-cpp above {AppContext.BaseDirectory} and "
            + $"{Environment.CurrentDirectory}, and in ${NodeModulesVariable})");

        var start = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--model");
        start.ArgumentList.Add(Path.GetFullPath(ggufPath));
        start.ArgumentList.Add("--prompt-tokens");
        start.ArgumentList.Add(string.Join(',', promptTokens.Select(t => t.ToString(CultureInfo.InvariantCulture))));
        start.ArgumentList.Add("--max-tokens");
        start.ArgumentList.Add(maxTokens.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--threads");
        start.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--node-modules");
        start.ArgumentList.Add(nodeModules);

        var (exitCode, stdout, stderr) = RunProcess(start, timeout);
        if (exitCode != 0)
            throw new LlamaCppPeerException($"node-llama-cpp peer exited with code {exitCode}: {Tail(stderr)}");
        return ParseRun(stdout, stderr);
    }

    /// <summary>The node_modules folder that holds node-llama-cpp, or null when it is not installed.</summary>
    public static string? FindNodeModules()
    {
        // An explicit setting wins over what happens to lie above the binary.
        var fromEnvironment = Environment.GetEnvironmentVariable(NodeModulesVariable);
        if (!string.IsNullOrEmpty(fromEnvironment) && HoldsNodeLlamaCpp(fromEnvironment))
            return Path.GetFullPath(fromEnvironment);

        foreach (var origin in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(origin); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "node_modules");
                if (HoldsNodeLlamaCpp(candidate))
                    return candidate;
            }
        }
        return null;
    }

    private static bool HoldsNodeLlamaCpp(string nodeModules) =>
        File.Exists(Path.Combine(nodeModules, "node-llama-cpp", "package.json"));

    private static string? FindNode()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "node.exe" : "node");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static string FindScript()
    {
        // The build copies Peers/*.mjs beside the binary (and beside anything that references the agent project).
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "Peers", ScriptFileName),
            Path.Combine(AppContext.BaseDirectory, ScriptFileName),
        ];
        return candidates.FirstOrDefault(File.Exists) ?? throw new LlamaCppPeerException(
            $"{ScriptFileName} not found beside the binary ({string.Join(", ", candidates)}); rebuild the agent");
    }

    private static (int ExitCode, string Stdout, string Stderr) RunProcess(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LlamaCppPeerException($"could not start {start.FileName}: {e.Message}; {NotInstalled}", e);
        }

        // Both pipes are drained concurrently so a chatty stderr can never block the child on a full pipe.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
            throw new LlamaCppPeerException(
                $"node-llama-cpp peer did not finish within {timeout.TotalSeconds:0.#} s and was stopped; {Tail(SafeResult(stderr))}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private static string SafeResult(Task<string> text) =>
        text.Wait(TimeSpan.FromSeconds(2)) ? text.Result : "";

    private static LlamaCppRun ParseRun(string stdout, string stderr)
    {
        // llama.cpp may log to stdout before the result; the result is the last line.
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is null)
            throw new LlamaCppPeerException($"node-llama-cpp peer printed nothing; stderr: {Tail(stderr)}");
        try
        {
            return JsonSerializer.Deserialize(line, LlamaCppRunJsonContext.Default.LlamaCppRun)
                ?? throw new LlamaCppPeerException($"node-llama-cpp peer printed null: {line}");
        }
        catch (JsonException e)
        {
            throw new LlamaCppPeerException($"node-llama-cpp peer printed an unreadable result '{Tail(line)}': {e.Message}", e);
        }
    }

    private static string Tail(string text)
    {
        const int Keep = 2000;
        text = text.Trim();
        return text.Length <= Keep ? text : "…" + text[^Keep..];
    }
}
