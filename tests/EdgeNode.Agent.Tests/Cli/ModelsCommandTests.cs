using System.Security.Cryptography;
using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

public sealed class ModelsCommandTests(AgentHome home) : IClassFixture<AgentHome>
{
    [Fact]
    public void ConvertWritesSlicesAndAManifestWithEveryFilesSha256()
    {
        using var dir = TestPaths.NewTempDirectory("convert");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--out", dir.Path, "--precision", "int4", "--layers", "0:2,2:5");
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "manifest.json")));
        var root = manifest.RootElement;
        Assert.Equal("int4", root.GetProperty("precision").GetString());
        Assert.Equal(64, root.GetProperty("config").GetProperty("dim").GetInt32());
        var slices = root.GetProperty("slices").EnumerateArray().Select(s => s.GetProperty("file").GetString()!).ToArray();
        Assert.Equal<string[]>(["embed.onnx", "layers_0_2.onnx", "layers_2_5.onnx", "head.onnx"], slices);
        foreach (var file in root.GetProperty("files").EnumerateArray())
        {
            var path = Path.Combine(dir.Path, file.GetProperty("path").GetString()!);
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        }

        // The converted folder runs as it is.
        var generate = home.Run("generate", "--model", dir.Path, "--prompt", "Once upon a time", "--max-tokens", "8", "--temperature", "0", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
        Assert.Equal("int4", JsonDocument.Parse(generate.Stdout).RootElement.GetProperty("precision").GetString());
    }

    [Fact]
    public void ConvertRejectsARangeOutsideTheModel()
    {
        using var dir = TestPaths.NewTempDirectory("convert-bad");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--out", dir.Path, "--layers", "0:9");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("0:9", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void PullFromTheMirrorThenGenerateByName()
    {
        var env = home.Environment(("EDGENODE_MODEL_MIRROR", TestPaths.SharedModels));
        var pull = AgentBinary.Run(["models", "pull", "stories260K"], env);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        var folder = pull.Stdout.Trim();
        Assert.True(File.Exists(Path.Combine(folder, "stories260K.bin")));

        var list = AgentBinary.Run(["models", "list"], env);
        Assert.Contains("stories260K", list.Stdout, StringComparison.Ordinal);

        var generate = AgentBinary.Run(["generate", "--model", "stories260K", "--prompt", "Once upon a time", "--max-tokens", "5", "--temperature", "0", "--json"], env);
        Assert.True(generate.ExitCode == 0, generate.Stderr);
        Assert.Equal([432, 383, 286, 261, 376], JsonDocument.Parse(generate.Stdout).RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void PullOfAnUnknownNameListsTheKnownOnes()
    {
        var result = home.Run("models", "pull", "gpt-17");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("unknown model 'gpt-17'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("stories260K", result.Stderr, StringComparison.Ordinal);
    }
}
