using System.Text.Json;

namespace EdgeNode.Agent.Tests.Cli;

public sealed class DevicesCommandTests(AgentHome home) : IClassFixture<AgentHome>
{
    [Fact]
    public void ReportsOnnxRuntimeAndTheProvidersThatRun()
    {
        var result = home.Run("devices", "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("1.31.1", root.GetProperty("runtime_version").GetString());
        var cpu = root.GetProperty("execution_providers").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "cpu");
        Assert.True(cpu.GetProperty("runs").GetBoolean());
        Assert.True(root.GetProperty("memory").GetProperty("total_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("cpu").GetProperty("logical_cores").GetInt32() >= 1);
    }

    [Fact]
    public void PrintsAReadableReport()
    {
        var result = home.Run("devices");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("onnxruntime 1.31.1", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("cpu: runs", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("memory", result.Stdout, StringComparison.Ordinal);
    }
}
