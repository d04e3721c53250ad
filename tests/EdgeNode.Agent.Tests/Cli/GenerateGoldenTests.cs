using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>The NativeAOT binary's fp32 greedy output equals the upstream reference's golden tokens, for both real models.</summary>
public sealed class GenerateGoldenTests(AgentHome home) : IClassFixture<AgentHome>
{
    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama2xs-tok512-280K")]
    public void AotBinaryReproducesEveryGoldenCase(string model)
    {
        var (_, checkpoint, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == model);
        foreach (var golden in GoldenCase.Load(model))
        {
            var result = home.Run("generate", "--model", checkpoint, "--tokenizer", tokenizer, "--prompt", golden.Prompt,
                "--max-tokens", golden.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--temperature", "0", "--threads", "2", "--json");
            Assert.True(result.ExitCode == 0, result.Stderr);
            using var json = JsonDocument.Parse(result.Stdout);
            var root = json.RootElement;
            Assert.Equal(golden.PromptTokens, root.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(golden.Tokens, root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("cpu", root.GetProperty("ep").GetString());
            Assert.True(root.GetProperty("decode_tok_s").GetDouble() > 0);
            Assert.True(root.GetProperty("prefill_tok_s").GetDouble() > 0);
            Assert.Equal("fp32", root.GetProperty("precision").GetString());
        }
    }

    [Theory]
    [InlineData("stories260K", "stories260K-f32.gguf")]
    [InlineData("llama2xs-tok512-280K", "llama2xs-280K-f32.gguf")]
    public void GgufInputWithItsEmbeddedTokenizerReproducesTheGoldens(string model, string gguf)
    {
        foreach (var golden in GoldenCase.Load(model))
        {
            var result = home.Run("generate", "--model", TestPaths.Model(model, gguf), "--prompt", golden.Prompt,
                "--max-tokens", golden.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "--temperature", "0", "--json");
            Assert.True(result.ExitCode == 0, result.Stderr);
            using var json = JsonDocument.Parse(result.Stdout);
            Assert.Equal(golden.PromptTokens, json.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(golden.Tokens, json.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        }
    }

    [Fact]
    public void StreamsTextWithoutJson()
    {
        var (_, checkpoint, _) = GoldenCase.RealModels().First();
        var result = home.Run("generate", "--model", checkpoint, "--prompt", "Once upon a time", "--max-tokens", "20", "--temperature", "0");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith(", there was a little girl named Lily.", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void SamplingWithASeedIsRepeatable()
    {
        var (_, checkpoint, _) = GoldenCase.RealModels().First();
        string[] args = ["generate", "--model", checkpoint, "--prompt", "Lily", "--max-tokens", "30", "--temperature", "1.0", "--top-p", "0.9", "--seed", "7", "--json"];
        var a = home.Run(args);
        var b = home.Run(args);
        Assert.True(a.ExitCode == 0, a.Stderr);
        Assert.Equal(Tokens(a.Stdout), Tokens(b.Stdout));
        Assert.Equal(7ul, JsonDocument.Parse(a.Stdout).RootElement.GetProperty("seed").GetUInt64());

        static int[] Tokens(string json) => JsonDocument.Parse(json).RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }
}
