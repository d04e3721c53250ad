using EdgeNode.Drivers.Tests.Boards;
using EdgeNode.Hardware;
using EdgeNode.Hardware.Report;
using EdgeNode.TestSupport;

namespace EdgeNode.Drivers.Tests.Hardware;

public sealed class ReportRenderingTests : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("report");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Json_RoundTripsThroughTheSourceGeneratedContext()
    {
        BoardTrees.OrangePi5(_root.Path);
        var report = HardwareProbe.Probe(_root.Path) with
        {
            RuntimeVersion = "1.30.0",
            ExecutionProviders = [new ExecutionProviderStatus("CPUExecutionProvider", true, true, null), new ExecutionProviderStatus("XnnpackExecutionProvider", true, false, "smoke model failed")],
        };

        var json = report.ToJson();
        Assert.Contains("\"platform\": \"Rockchip\"", json, StringComparison.Ordinal);
        Assert.Contains("\"performance_core_ids\"", json, StringComparison.Ordinal);
        var back = HardwareReport.FromJson(json);

        Assert.Equal(report.Board.Model, back.Board.Model);
        Assert.Equal(report.Cpu.PerformanceCoreIds, back.Cpu.PerformanceCoreIds);
        Assert.Equal(report.Cpu.Clusters.Select(c => c.CoreIds.Count), back.Cpu.Clusters.Select(c => c.CoreIds.Count));
        Assert.Equal(2, back.ExecutionProviders.Count);
        Assert.False(back.ExecutionProviders[1].Runs);
        Assert.Equal(json, back.ToJson());
    }

    [Fact]
    public void Text_ShowsBoardClustersSensorsAndProviders()
    {
        BoardTrees.JetsonOrinNano(_root.Path);
        var report = HardwareProbe.Probe(_root.Path) with
        {
            ExecutionProviders = [new ExecutionProviderStatus("CUDAExecutionProvider", true, true, null)],
        };
        var text = report.ToText();

        Assert.Contains("board      NVIDIA Jetson Orin Nano Developer Kit (jetson, from device-tree)", text, StringComparison.Ordinal);
        Assert.Contains("cores 0-3, Cortex-A78AE, 1510 MHz, performance", text, StringComparison.Ordinal);
        Assert.Contains("ina3221/VDD_IN: 5.080 V, 1.488 A, 7.56 W", text, StringComparison.Ordinal);
        Assert.Contains("throttles at 99.0 °C", text, StringComparison.Ordinal);
        Assert.Contains("providers  running: CUDAExecutionProvider", text, StringComparison.Ordinal);
    }
}
