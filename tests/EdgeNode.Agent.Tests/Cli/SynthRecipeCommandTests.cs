using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>`edgenode models synth --recipe`: random weights at a recipe's shape, converted to slices that run.</summary>
public sealed class SynthRecipeCommandTests(AgentHome home) : IClassFixture<AgentHome>
{
    [Fact]
    public void SynthAtARecipeShapeWritesSlicesThatGenerate()
    {
        using var dir = TestPaths.NewTempDirectory("synth-recipe");
        var synth = home.Run("models", "synth", "--recipe", "stories260K", "--seed", "3", "--out", dir.Path,
            "--tokenizer", TestPaths.Model("stories260K", "tok512.bin"), "--precision", "int4");
        Assert.True(synth.ExitCode == 0, synth.Stderr);

        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "manifest.json"))).RootElement;
        Assert.Equal("random weights at the shape of stories260K", manifest.GetProperty("name").GetString());
        Assert.Equal("int4", manifest.GetProperty("precision").GetString());
        Assert.Equal(64, manifest.GetProperty("config").GetProperty("dim").GetInt32());
        Assert.Equal(5, manifest.GetProperty("config").GetProperty("layers").GetInt32());

        var generate = home.Run("generate", "--model", dir.Path, "--prompt", "Once upon a time", "--max-tokens", "6", "--temperature", "0", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
        Assert.Equal(6, JsonDocument.Parse(generate.Stdout).RootElement.GetProperty("tokens").GetArrayLength());
    }

    [Fact]
    public void SynthAtARecipeShapeNamesTheMissingTokenizerAndTheUnknownRecipe()
    {
        using var dir = TestPaths.NewTempDirectory("synth-recipe-bad");
        var noTokenizer = home.Run("models", "synth", "--recipe", "qwen3-0.6b", "--seed", "1", "--out", dir.Path);
        Assert.Equal(2, noTokenizer.ExitCode);
        Assert.Contains("--tokenizer", noTokenizer.Stderr, StringComparison.Ordinal);
        Assert.Contains("151936", noTokenizer.Stderr, StringComparison.Ordinal);

        var unknown = home.Run("models", "synth", "--recipe", "gpt-5", "--seed", "1", "--out", dir.Path);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown recipe 'gpt-5'", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("qwen3-0.6b", unknown.Stderr, StringComparison.Ordinal);
    }
}
