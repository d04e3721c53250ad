using EdgeNode.Agent.Peers;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Peers;

/// <summary>
/// Native llama.cpp's llama-bench, built for this CPU by ci/build-llama-cpp (ci/test builds it), run for real on a real
/// GGUF: the decode rate, the commit it was built from (the head of the bundle node-llama-cpp ships) and its flags.
/// </summary>
public sealed class LlamaBenchPeerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    private static string Binary()
    {
        var binary = LlamaBenchPeer.Find(null);
        Assert.True(binary is not null, "llama-bench not built: run `bash ci/build-llama-cpp` (ci/test does)");
        return binary!;
    }

    [Fact]
    public void Decodes_a_real_gguf_and_names_its_build()
    {
        var run = LlamaBenchPeer.Run(Binary(), TestPaths.Model("stories260K", "stories260K-q4_0.gguf"), tokens: 8, threads: 1, repetitions: 2, s_timeout);

        Assert.True(run.DecodeTokS > 0, $"decode {run.DecodeTokS} tok/s");
        Assert.True(run.StddevTokS >= 0);
        var bundle = Path.Combine(TestPaths.RepoRoot, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
        var heads = PeerProcess.Run("git", ["bundle", "list-heads", bundle], "");
        Assert.Contains(run.Commit, heads, StringComparison.Ordinal);
        Assert.Equal(40, run.Commit.Length);
        Assert.Contains("-DGGML_NATIVE=ON", run.BuildFlags, StringComparison.Ordinal);
        Assert.Contains("-DGGML_AMX_INT8=OFF", run.BuildFlags, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgenode-no-such-model.gguf");
        var error = Assert.Throws<FileNotFoundException>(() => LlamaBenchPeer.Run(Binary(), missing, 1, 1, 1, s_timeout));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_binary_says_how_to_build_it()
    {
        var error = Assert.Throws<LlamaCppPeerException>(() => LlamaBenchPeer.Find("/nonexistent/llama-bench"));
        Assert.Contains("ci/build-llama-cpp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_an_error_naming_llama_bench()
    {
        using var dir = TestPaths.NewTempDirectory("llama-bench-bad");
        var bad = Path.Combine(dir.Path, "not-a-model.gguf");
        File.WriteAllText(bad, "this is not a GGUF file");
        var error = Assert.Throws<LlamaCppPeerException>(() => LlamaBenchPeer.Run(Binary(), bad, 1, 1, 1, s_timeout));
        Assert.Contains("llama-bench", error.Message, StringComparison.Ordinal);
    }
}
