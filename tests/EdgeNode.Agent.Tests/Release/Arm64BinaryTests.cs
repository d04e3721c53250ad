using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Release;

/// <summary>
/// The linux-arm64 NativeAOT binary, cross-compiled by ci/publish-aot, run under qemu-user: what an ARM board runs.
/// ONNX Runtime reads /proc/cpuinfo while it loads and, under qemu-user, would see this host's x86 one; a private
/// mount namespace shows it an ARM board's instead. The arm64 libc, libstdc++ and libssl come from Debian multiarch
/// (ci/install --test), where qemu finds them without -L.
/// </summary>
public sealed class Arm64BinaryTests : IDisposable
{
    private readonly TempDirectory _home = TestPaths.NewTempDirectory("arm64-home");

    private static string Binary => Path.Combine(TestPaths.RepoRoot, "artifacts", "publish", "linux-arm64", "edgenode");

    [Fact]
    public void The_arm64_binary_reproduces_every_stories260K_golden_case_under_qemu()
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: run `bash ci/publish-aot linux-arm64` (ci/test does)");
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(Binary)!, "libonnxruntime.so")), "the arm64 publish folder lacks libonnxruntime.so");
        foreach (var golden in GoldenCase.Load("stories260K"))
        {
            var result = RunUnderQemu("generate", "--model", golden.CheckpointPath, "--tokenizer", golden.TokenizerPath,
                "--prompt", golden.Prompt, "--max-tokens", golden.MaxTokens.ToString(CultureInfo.InvariantCulture),
                "--temperature", "0", "--threads", "2", "--json");
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
            using var json = JsonDocument.Parse(result.Stdout);
            Assert.Equal(golden.PromptTokens, json.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(golden.Tokens, json.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        }
    }

    /// <summary>
    /// EdgeNode's 4-bit kernel on its arm64 path (SDOT; qemu's default CPU has the dot-product instructions): at int4 the
    /// stories260K projections run on it, and greedy output equals the same binary with ONNX Runtime's kernel.
    /// </summary>
    [Fact]
    public void The_arm64_binary_runs_the_four_bit_kernel_with_dot_product_and_agrees_with_onnx_runtimes()
    {
        Assert.True(File.Exists(Binary), $"{Binary} is missing: run `bash ci/publish-aot linux-arm64` (ci/test does)");
        var golden = GoldenCase.Load("stories260K").First();
        JsonElement Generate(string kernels)
        {
            var result = RunUnderQemu("generate", "--model", golden.CheckpointPath, "--tokenizer", golden.TokenizerPath, "--precision", "int4",
                "--prompt", golden.Prompt, "--max-tokens", "32", "--temperature", "0", "--threads", "2", "--kernels", kernels, "--json");
            Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr}");
            return JsonDocument.Parse(result.Stdout).RootElement.Clone();
        }
        var own = Generate("edgenode");
        var stock = Generate("onnxruntime");
        Assert.Equal("edgenode (neon-dotprod)", own.GetProperty("matmul_kernels").GetString());
        Assert.Equal("onnxruntime", stock.GetProperty("matmul_kernels").GetString());
        Assert.Equal(32, own.GetProperty("tokens").GetArrayLength());
        Assert.Equal(stock.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()), own.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
    }

    private AgentBinary.Result RunUnderQemu(params string[] args)
    {
        var cpuinfo = Path.Combine(AppContext.BaseDirectory, "Data", "arm64-cpuinfo.txt");
        var psi = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // sh receives the cpuinfo file as $0 and the binary with its arguments as "$@": the shell parses none of them.
        foreach (var a in new[] { "--mount", "--propagation", "private", "sh", "-c", "mount --bind \"$0\" /proc/cpuinfo && exec qemu-aarch64-static \"$@\"", cpuinfo, Binary })
            psi.ArgumentList.Add(a);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["EDGENODE_HOME"] = _home.Path;
        psi.Environment.Remove("EDGENODE_MODEL_MIRROR");
        psi.Environment.Remove("EDGENODE_ORT_LIBRARY");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the arm64 binary did not finish within 3 minutes under qemu");
        }
        process.WaitForExit();
        return new AgentBinary.Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    public void Dispose() => _home.Dispose();
}
