using System.Globalization;
using System.Text.Json;
using EdgeNode.Agent.Peers;
using EdgeNode.Agent.Tests.Cli;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Peers;

/// <summary>
/// The project's own GGUF export, written by the AOT binary, makes node-llama-cpp produce the golden tokens of
/// the real models; and on random weights at the shape of stories15M, EdgeNode and node-llama-cpp pick the
/// same greedy tokens from the same weights.
/// </summary>
public sealed class GgufExportPeerTests(AgentHome home) : IClassFixture<AgentHome>
{
    // The golden checks run llama.cpp on one thread: its workers spin at every barrier, and with two of them on two cores
    // shared with the other test assemblies a run was measured taking minutes. Greedy f32 output does not depend on it.
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData("stories260K", "f32", "stories260K-f32.gguf", true)]
    [InlineData("stories260K", "q8_0", "stories260K-q8_0.gguf", false)]
    [InlineData("llama2xs-tok512-280K", "f32", "llama2xs-280K-f32.gguf", true)]
    public void ExportedGgufReproducesTheGoldenTokensInLlamaCpp(string model, string type, string sharedCopy, bool exact)
    {
        var cases = GoldenCase.Load(model);
        using var dir = TestPaths.NewTempDirectory("gguf");
        var gguf = dir.File($"{model}-{type}.gguf");
        var export = home.Run("models", "export-gguf", cases[0].CheckpointPath, "--tokenizer", cases[0].TokenizerPath, "--out", gguf, "--type", type);
        Assert.True(export.ExitCode == 0, export.Stderr);
        // Byte-identical to the copy an independent converter wrote.
        Assert.True(File.ReadAllBytes(gguf).AsSpan().SequenceEqual(File.ReadAllBytes(TestPaths.Model(model, sharedCopy))), "export differs from the shared GGUF");

        // F32 must give the golden tokens exactly. Q8_0 is llama.cpp's own quantized arithmetic on a 64-wide model:
        // it follows the golden for long stretches and then drifts (measured: 466 of 956 tokens before the first
        // divergence over the five prompts), so it is held to 40%; its file is still byte-identical above.
        int matching = 0, total = 0;
        foreach (var golden in cases)
        {
            var run = LlamaCppPeer.Run(gguf, golden.PromptTokens, golden.MaxTokens, threads: 1, s_timeout);
            if (exact)
                Assert.Equal(golden.Tokens, run.Tokens);
            var prefix = 0;
            while (prefix < Math.Min(golden.Tokens.Length, run.Tokens.Length) && golden.Tokens[prefix] == run.Tokens[prefix])
                prefix++;
            matching += prefix;
            total += golden.Tokens.Length;
        }
        Assert.True(matching >= total * 4 / 10, $"{type}: only {matching}/{total} golden tokens before divergence");
    }

    [Fact]
    public void EdgeNodeAndLlamaCppAgreeOnRandomWeightsAtTheShapeOfStories15M()
    {
        using var dir = TestPaths.NewTempDirectory("synth");
        var synth = home.Run("models", "synth", "--shape", "stories15M", "--seed", "3", "--out", dir.Path, "--tokenizer", TestPaths.Model("llama2-tokenizer", "tokenizer.bin"));
        Assert.True(synth.ExitCode == 0, synth.Stderr);
        var gguf = dir.File("model-f32.gguf");
        var export = home.Run("models", "export-gguf", dir.File("model.bin"), "--out", gguf, "--type", "f32");
        Assert.True(export.ExitCode == 0, export.Stderr);

        const int tokens = 32;
        var ours = home.Run("generate", "--model", dir.Path, "--prompt", "Once upon a time", "--max-tokens", tokens.ToString(CultureInfo.InvariantCulture), "--temperature", "0", "--threads", "2", "--json");
        Assert.True(ours.ExitCode == 0, ours.Stderr);
        using var json = JsonDocument.Parse(ours.Stdout);
        var prompt = json.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var ourTokens = json.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        var theirs = LlamaCppPeer.Run(gguf, prompt, ourTokens.Length, threads: 2, s_timeout);
        Assert.Equal(ourTokens, theirs.Tokens);
    }
}
