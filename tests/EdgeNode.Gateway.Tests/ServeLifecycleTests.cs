using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>How `edgenode serve` starts, refuses to start, and stops.</summary>
public sealed class ServeLifecycleTests
{
    [Fact]
    public void SigtermStopsTheServerCleanly()
    {
        using var home = TestPaths.NewTempDirectory("serve-term");
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K")],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = null });
        // One answered request first, so a loaded model is part of what is shut down.
        var result = OpenAiClient.Run(server, "unused-without-keys", OpenAiClient.Completion(new JsonObject
        {
            ["model"] = "stories260K", ["prompt"] = "Once", ["max_tokens"] = 5, ["temperature"] = 0,
        }))[0]!;
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());

        Assert.Equal(0, server.Terminate(TimeSpan.FromSeconds(15)));
        var lines = server.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Structured logs: every line is one JSON object; quiet: no line per request by default.
        Assert.All(lines, line => JsonNode.Parse(line));
        Assert.Contains(lines, line => line.Contains("\"Message\":\"stopped\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.Contains("POST /v1/completions", StringComparison.Ordinal));
    }

    [Fact]
    public void ANonLoopbackAddressWithoutAKeyIsRefused()
    {
        using var home = TestPaths.NewTempDirectory("serve-open");
        var result = ServeProcess.RunExpectingFailure(["--listen", "0.0.0.0:0", "--model", TestPaths.Model("stories260K")],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = null });
        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("0.0.0.0:0", error, StringComparison.Ordinal);
        Assert.Contains("EDGENODE_API_KEYS", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsFileThenEnvironmentThenFlags()
    {
        using var home = TestPaths.NewTempDirectory("serve-settings");
        var settings = home.File("serve.json");
        // The file names a models folder and a key; the environment replaces the key; a flag replaces the listen address.
        File.WriteAllText(settings, $$"""
            { "listen": "127.0.0.1:1", "models_dir": "{{TestPaths.Model("stories260K").Replace("\\", "\\\\", StringComparison.Ordinal)}}", "api_keys": ["sk-from-file"] }
            """);
        using var server = ServeProcess.Start(["--config", settings, "--listen", "127.0.0.1:0"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = "sk-from-env" });
        var results = OpenAiClient.Run(server, "sk-from-env", OpenAiClient.Models(),
            new JsonObject { ["op"] = "models", ["apiKey"] = "sk-from-file" });
        Assert.True(results[0]!["ok"]!.GetValue<bool>(), results[0]!.ToJsonString());
        // The folder's checkpoint and its three GGUF files, each under its file name.
        var ids = results[0]!["models"]!.AsArray().Select(m => m!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["stories260K", "stories260K-f32", "stories260K-q4_0", "stories260K-q8_0"], ids.Order(StringComparer.Ordinal));
        Assert.Equal(401, results[1]!["status"]!.GetValue<int>());
    }

    [Fact]
    public void AMisspeltSettingIsRefusedByName()
    {
        using var home = TestPaths.NewTempDirectory("serve-typo");
        var settings = home.File("serve.json");
        File.WriteAllText(settings, """{ "listen": "127.0.0.1:0", "api_key": ["sk-x"] }""");
        var result = ServeProcess.RunExpectingFailure(["--config", settings, "--model", TestPaths.Model("stories260K")],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path });
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("api_key", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("api_keys", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ARequestBeyondTheQueueIsRefusedWith429AndTheOthersAreAnswered()
    {
        using var home = TestPaths.NewTempDirectory("serve-queue");
        // No waiting room: while one request runs, a second one for the same model is refused.
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--max-queue", "0", "--threads", "1"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = null });
        JsonObject Long() => OpenAiClient.Completion(new JsonObject
        {
            ["model"] = "stories260K", ["prompt"] = "Once upon a time", ["max_tokens"] = 400, ["temperature"] = 1, ["seed"] = 1, ["stop"] = "never-appears",
        });
        var answers = OpenAiClient.Run(server, "unused", OpenAiClient.Parallel(Long(), Long(), Long()))[0]!["answers"]!.AsArray();
        var refused = answers.Where(a => !a!["ok"]!.GetValue<bool>()).ToList();
        Assert.NotEmpty(refused);
        Assert.Contains(answers, a => a!["ok"]!.GetValue<bool>());
        Assert.All(refused, a =>
        {
            Assert.Equal(429, a!["status"]!.GetValue<int>());
            Assert.Equal("queue_full", a["error"]!["code"]!.GetValue<string>());
        });
        // The queue frees once the running request ends.
        var after = OpenAiClient.Run(server, "unused", OpenAiClient.Models())[0]!;
        Assert.True(after["ok"]!.GetValue<bool>());
    }
}
