using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `generate --json` reports joules per token from the board's power rail. The rail is a fake hwmon tree
/// shaped like a Jetson's INA3221 (VDD_IN at 5.0 V × 1.2 A = 6 W), pointed at with EDGENODE_SYSFS_ROOT.
/// </summary>
public sealed class EnergyPerTokenTests(AgentHome home) : IClassFixture<AgentHome>
{
    [Fact]
    public void GenerateReportsJoulesPerTokenFromTheBoardInputRail()
    {
        using var root = TestPaths.NewTempDirectory("sysfs");
        var hwmon = Path.Combine(root.Path, "sys", "class", "hwmon", "hwmon1");
        Directory.CreateDirectory(hwmon);
        File.WriteAllText(Path.Combine(hwmon, "name"), "ina3221\n");
        File.WriteAllText(Path.Combine(hwmon, "in1_label"), "VDD_IN\n");
        File.WriteAllText(Path.Combine(hwmon, "in1_input"), "5000\n");
        File.WriteAllText(Path.Combine(hwmon, "curr1_input"), "1200\n");

        var env = home.Environment(("EDGENODE_SYSFS_ROOT", root.Path));
        var result = AgentBinary.Run(["generate", "--model", TestPaths.Model("stories260K"), "--prompt", "Once upon a time",
            "--max-tokens", "64", "--temperature", "0", "--json"], env);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var r = json.RootElement;
        Assert.Equal("ina3221/VDD_IN", r.GetProperty("power_sensor").GetString());
        var joules = r.GetProperty("joules_per_token").GetDouble();
        var tokens = r.GetProperty("tokens").GetArrayLength();
        // 6 W over the run's wall time, divided by the tokens: positive and bounded by 6 W × the run's duration.
        Assert.True(joules > 0, $"J/token {joules}");
        var seconds = tokens / Math.Max(r.GetProperty("decode_tok_s").GetDouble(), 1) + r.GetProperty("ttft_ms").GetDouble() / 1000;
        Assert.True(joules * tokens <= 6.0 * (seconds + 0.5), $"{joules} J/token × {tokens} tokens exceeds 6 W over {seconds:F3} s");
    }

    [Fact]
    public void NoSensorMeansNoNumber()
    {
        using var root = TestPaths.NewTempDirectory("sysfs-empty");
        var env = home.Environment(("EDGENODE_SYSFS_ROOT", root.Path));
        var result = AgentBinary.Run(["generate", "--model", TestPaths.Model("stories260K"), "--prompt", "hi", "--max-tokens", "4", "--temperature", "0", "--json"], env);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.False(JsonDocument.Parse(result.Stdout).RootElement.TryGetProperty("joules_per_token", out var j) && j.ValueKind != JsonValueKind.Null);
    }
}
