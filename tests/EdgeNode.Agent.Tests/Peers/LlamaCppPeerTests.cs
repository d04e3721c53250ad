using System.Text.Json;
using EdgeNode.Agent.Peers;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Peers;

/// <summary>
/// llama.cpp, fed the reference's own prompt token ids, must reproduce the reference's greedy tokens
/// from the f32 GGUF copies: that is what makes it a trustworthy peer for EdgeNode's outputs.
/// </summary>
public sealed class LlamaCppPeerTests
{
    // The golden checks run llama.cpp on one thread: its workers spin at every barrier, and with two of them on two cores
    // shared with the other test assemblies a run was measured taking minutes. Greedy f32 output does not depend on it.
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData("stories260K", "stories260K-f32.gguf")]
    [InlineData("llama2xs-tok512-280K", "llama2xs-280K-f32.gguf")]
    public void Reproduces_the_golden_greedy_tokens(string folder, string gguf)
    {
        var cases = GoldenCase.Load(folder);
        Assert.NotEmpty(cases);
        foreach (var golden in cases)
        {
            var maxTokens = golden.MaxTokens;
            var run = LlamaCppPeer.Run(TestPaths.Model(folder, gguf), golden.PromptTokens, maxTokens, threads: 1, s_timeout);

            Assert.Equal(golden.PromptTokens.Length, run.PromptTokens);
            Assert.True(golden.Tokens.SequenceEqual(run.Tokens),
                $"{folder} prompt '{golden.Prompt}': first difference at {FirstDifference(golden.Tokens, run.Tokens)}; "
                + $"expected {golden.Tokens.Length} tokens, got {run.Tokens.Length}");
            Assert.Equal(1, run.Threads);
            Assert.Contains("llama.cpp", run.LlamaCpp, StringComparison.Ordinal);
            Assert.True(run.PrefillMs > 0);
            Assert.True(run.TtftMs >= run.PrefillMs);
            if (run.Tokens.Length > 1)
                Assert.True(run.DecodeTokS > 0);
        }
    }

    [Fact]
    public void Stops_at_max_tokens()
    {
        var run = LlamaCppPeer.Run(TestPaths.Model("stories260K", "stories260K-q8_0.gguf"), [1], maxTokens: 3, threads: 2, s_timeout);
        Assert.Equal(3, run.Tokens.Length);
        Assert.Equal(2, run.Threads);
        Assert.Equal(1, run.PromptTokens);
    }

    [Fact]
    public void A_missing_model_is_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgenode-no-such-model.gguf");
        var error = Assert.Throws<FileNotFoundException>(() => LlamaCppPeer.Run(missing, [1], 1, 1, s_timeout));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Finds_node_llama_cpp_from_the_repository()
    {
        var nodeModules = LlamaCppPeer.FindNodeModules();
        Assert.NotNull(nodeModules);
        Assert.True(File.Exists(Path.Combine(nodeModules, "node-llama-cpp", "package.json")));
    }

    private static int FirstDifference(int[] expected, int[] actual)
    {
        var i = 0;
        while (i < expected.Length && i < actual.Length && expected[i] == actual[i])
            i++;
        return i;
    }
}
