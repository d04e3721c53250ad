using System.Net.Http.Json;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// A real `edgenode serve --threads 3` (the NativeAOT binary) whose governor reads a simulated thermal zone
/// (EDGENODE_SYSFS_ROOT). At 76 °C — past the 70 °C where threads are shed, short of the 78 °C drain — the governor
/// wants 2 threads: the idle model is re-opened with 2 at once, says so in the log, and still answers the golden text.
/// </summary>
public sealed class ServeGovernorThreadsTests
{
    [Fact]
    public async Task AWarmBoardReopensTheIdleModelWithFewerThreadsAndTheAnswerStaysGolden()
    {
        using var home = TestPaths.NewTempDirectory("serve-governor");
        using var zone = new SimulatedThermalZone(45);
        using var serve = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--threads", "3"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_SYSFS_ROOT"] = zone.Root, ["EDGENODE_API_KEYS"] = null });
        using var http = new HttpClient { BaseAddress = new Uri(serve.BaseUrl), Timeout = TimeSpan.FromSeconds(120) };
        var golden = GoldenCase.Load("stories260K")[0];

        // Cool: the first request loads the model with --threads.
        Assert.Equal(golden.Text, golden.Prompt + await CompleteAsync(http, golden));
        Assert.DoesNotContain("intra-op threads instead of", serve.Stderr, StringComparison.Ordinal);

        // Warm: the governor (sampling every 2 s) steps to 2 threads; the idle model follows at once.
        zone.Set(76);
        var line = await WaitForLineAsync(serve, "runs with 2 intra-op threads instead of 3", TimeSpan.FromSeconds(20));
        Assert.Contains("SoC 76.0", line, StringComparison.Ordinal);
        Assert.Equal(golden.Text, golden.Prompt + await CompleteAsync(http, golden));
        Assert.False(serve.HasExited, serve.Stderr);
    }

    private static async Task<string> CompleteAsync(HttpClient http, GoldenCase golden)
    {
        using var response = await http.PostAsJsonAsync("/v1/completions",
            new JsonObject { ["model"] = "stories260K", ["prompt"] = golden.Prompt, ["max_tokens"] = golden.MaxTokens, ["temperature"] = 0 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!["choices"]![0]!["text"]!.GetValue<string>();
    }

    private static async Task<string> WaitForLineAsync(ServeProcess serve, string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !serve.HasExited)
        {
            if (serve.Stderr.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
                return line;
            await Task.Delay(100);
        }
        Assert.Fail($"no log line with '{text}' within {timeout.TotalSeconds:F0} s: {serve.Stderr}");
        return "";
    }
}
