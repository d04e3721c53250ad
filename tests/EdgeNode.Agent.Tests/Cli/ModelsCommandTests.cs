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

    private static string RecipeFile(string name) =>
        Path.Combine(TestPaths.RepoRoot, "agent", "EdgeNode.Models", "Recipes", "Families", name + ".json");

    [Fact]
    public void RecipesListsEveryRecipeWithItsRepositoryAndWhetherItFits()
    {
        var result = home.Run("models", "recipes", "--memory", "1G");
        Assert.True(result.ExitCode == 0, result.Stderr);

        var lines = result.Stdout.Split('\n');
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(RecipeFile("x"))!, "*.json"))
        {
            using var recipe = JsonDocument.Parse(File.ReadAllText(file));
            var name = recipe.RootElement.GetProperty("name").GetString()!;
            var repository = recipe.RootElement.GetProperty("hub").GetProperty("repository").GetString()!;
            Assert.Contains(lines, l => l.StartsWith(name + " ", StringComparison.Ordinal) && l.Contains(repository, StringComparison.Ordinal));
        }
        // A 0.7 MiB model fits a 1 GiB device; 7.25B parameters at 4 bits (over 3.5 GB) do not.
        Assert.Contains("fits alone", lines.Single(l => l.StartsWith("stories260K ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("fits alone", lines.Single(l => l.StartsWith("mistral-7b ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public void RecipesPagePrintsTheGeneratedBlockEachDocsPageCarries()
    {
        var docs = Path.Combine(TestPaths.RepoRoot, "docs", "models");
        var pages = Directory.GetFiles(Path.GetDirectoryName(RecipeFile("x"))!, "*.json")
            .Select(f => (Name: Path.GetFileNameWithoutExtension(f), Page: Path.Combine(docs, Path.GetFileNameWithoutExtension(f) + ".md")))
            .Append((Name: "index", Page: Path.Combine(docs, "README.md")));
        foreach (var (name, page) in pages)
        {
            var result = home.Run("models", "recipes", "--page", name);
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.StartsWith($"<!-- generated: edgenode models recipes --page {name}; do not edit by hand -->\n", result.Stdout, StringComparison.Ordinal);
            Assert.EndsWith("\n<!-- /generated -->\n", result.Stdout, StringComparison.Ordinal);
            Assert.True(File.ReadAllText(page).Contains(result.Stdout, StringComparison.Ordinal),
                $"{page} differs from 'edgenode models recipes --page {name}'; run bash ci/recipe-docs");
        }

        var unknown = home.Run("models", "recipes", "--page", "gpt-17");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--page gpt-17: no such recipe; known: ", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("tinyllama-1.1b", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertWithARecipeAppliesTheVariantThePoolPlanAndTheCalibration()
    {
        using var dir = TestPaths.NewTempDirectory("convert-recipe");
        var calibration = Path.Combine(dir.Path, "calibration.txt");
        File.WriteAllText(calibration, "Once upon a time, there was a girl named Lily. She had a red ball.\n\nOne day she went to the park with her mom.");
        var outDir = Path.Combine(dir.Path, "out");

        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--recipe", "stories260K",
            "--variant", "int4", "--nodes", "2", "--awq", calibration, "--out", outDir);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("calibration ", result.Stderr, StringComparison.Ordinal);

        // The recipe file's own data: the int4 variant and its two-node plan.
        using var recipe = JsonDocument.Parse(File.ReadAllText(RecipeFile("stories260K")));
        var variant = recipe.RootElement.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("name").GetString() == "int4");
        var plan = variant.GetProperty("pool_plans").EnumerateArray().Single(p => p.GetProperty("nodes").GetInt32() == 2);
        var expectedSlices = plan.GetProperty("slices").EnumerateArray()
            .Select(s => $"layers_{s.GetProperty("first_layer").GetInt32()}_{s.GetProperty("end_layer").GetInt32()}.onnx");

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")));
        var root = manifest.RootElement;
        Assert.Equal(["embed.onnx", .. expectedSlices, "head.onnx"], root.GetProperty("slices").EnumerateArray().Select(s => s.GetProperty("file").GetString()!));
        var q = root.GetProperty("quantization");
        Assert.Equal("int4", q.GetProperty("precision").GetString());
        Assert.Equal(variant.GetProperty("block_size").GetInt32(), q.GetProperty("block_size").GetInt32());
        Assert.Equal(variant.GetProperty("asymmetric").GetBoolean(), q.GetProperty("asymmetric").GetBoolean());
        Assert.Equal("stories260K", q.GetProperty("recipe").GetString());
        Assert.Equal("int4", q.GetProperty("variant").GetString());
        var aware = q.GetProperty("activation_aware");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(calibration))), aware.GetProperty("calibration_sha256").GetString());
        Assert.True(aware.GetProperty("tokens").GetInt64() > 10);

        var generate = home.Run("generate", "--model", outDir, "--prompt", "Once upon a time", "--max-tokens", "8", "--temperature", "0", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
    }

    [Fact]
    public void ConvertRecordsTheChatTemplateChosenOverTheRecipes()
    {
        using var dir = TestPaths.NewTempDirectory("convert-chat-template");
        var chosen = Path.Combine(dir.Path, "chosen");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--recipe", "stories260K",
            "--variant", "int8", "--chat-template", "Zephyr", "--out", chosen);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(chosen, "manifest.json"))))
            Assert.Equal("zephyr", manifest.RootElement.GetProperty("chat_template").GetString());

        // Without the option the recipe's own format is recorded; stories260K's recipe names none.
        using var recipe = JsonDocument.Parse(File.ReadAllText(RecipeFile("stories260K")));
        Assert.Equal(JsonValueKind.Null, recipe.RootElement.GetProperty("chat_template").ValueKind);
        var plain = Path.Combine(dir.Path, "plain");
        result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--recipe", "stories260K", "--variant", "int8", "--out", plain);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using (var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(plain, "manifest.json"))))
            Assert.False(manifest.RootElement.TryGetProperty("chat_template", out _));

        var unknown = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--chat-template", "vicuna",
            "--out", Path.Combine(dir.Path, "unknown"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--chat-template: unknown chat template 'vicuna'; known: ", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("zephyr", unknown.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "unknown")));
    }

    [Fact]
    public void ConvertWithARecipeRefusesACheckpointOfAnotherShape()
    {
        using var dir = TestPaths.NewTempDirectory("convert-recipe-shape");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--recipe", "tinyllama-1.1b",
            "--out", Path.Combine(dir.Path, "out"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("the checkpoint has dim 64, recipe tinyllama-1.1b expects 2048", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir.Path, "out", "manifest.json")));
    }

    [Fact]
    public void ConvertAsymmetricRecordsItAndRuns()
    {
        using var dir = TestPaths.NewTempDirectory("convert-asymmetric");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--precision", "int4", "--asymmetric", "--out", dir.Path);
        Assert.True(result.ExitCode == 0, result.Stderr);

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "manifest.json")));
        var q = manifest.RootElement.GetProperty("quantization");
        Assert.True(q.GetProperty("asymmetric").GetBoolean());
        Assert.Equal(JsonValueKind.Null, q.GetProperty("activation_aware").ValueKind);
        var generate = home.Run("generate", "--model", dir.Path, "--prompt", "Once upon a time", "--max-tokens", "8", "--temperature", "0", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);
    }

    [Theory]
    [InlineData("missing", "calibration text not found")]
    [InlineData("empty", "the calibration text is empty")]
    public void ConvertNamesAMissingOrEmptyCalibrationText(string kind, string expected)
    {
        using var dir = TestPaths.NewTempDirectory("convert-awq");
        var calibration = Path.Combine(dir.Path, kind + ".txt");
        if (kind == "empty")
            File.WriteAllText(calibration, "");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--precision", "int4", "--awq", calibration,
            "--out", Path.Combine(dir.Path, "out"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--awq {calibration}: {expected}", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void PullOfARecipeFromAMirrorIsCheckedAgainstItsSha256Sums()
    {
        using var mirror = TestPaths.NewTempDirectory("recipe-mirror");
        var folder = Path.Combine(mirror.Path, "smollm2-360m");
        Directory.CreateDirectory(folder);
        var sums = new List<string>();
        foreach (var name in new[] { "config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors" })
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes($"stand-in for {name}");
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
            sums.Add($"{Convert.ToHexStringLower(SHA256.HashData(bytes))}  {name}");
        }
        File.WriteAllLines(Path.Combine(folder, "SHA256SUMS"), sums);
        // A closed port as the hub: the pull must not need it.
        var env = home.Environment(("EDGENODE_MODEL_MIRROR", mirror.Path), ("EDGENODE_HF_ENDPOINT", "http://127.0.0.1:9"));

        var pull = AgentBinary.Run(["models", "pull", "smollm2-360m"], env);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        var pulled = pull.Stdout.Trim();
        Assert.Equal("stand-in for model.safetensors", File.ReadAllText(Path.Combine(pulled, "model.safetensors")));

        // A mirror copy that does not match its line fails with both hashes and the file named.
        File.WriteAllText(Path.Combine(folder, "config.json"), "changed");
        File.Delete(Path.Combine(pulled, "config.json"));
        var bad = AgentBinary.Run(["models", "pull", "smollm2-360m"], env);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("sha256 mismatch for config.json: expected " + sums[0][..64] + ", got " + Convert.ToHexStringLower(SHA256.HashData("changed"u8.ToArray())),
            bad.Stderr, StringComparison.Ordinal);
    }
}
