using EdgeNode.Hardware;
using Xunit.Abstractions;

namespace EdgeNode.Drivers.Tests.Hardware;

public sealed class RealMachineProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void ProbingThisMachine_GivesCoresMemoryAndRendersWithoutThrowing()
    {
        var report = HardwareProbe.Probe();
        output.WriteLine(report.ToText());

        Assert.True(report.Cpu.LogicalCores >= 1);
        Assert.NotEmpty(report.Cpu.PerformanceCoreIds);
        Assert.True(report.Memory.TotalBytes > 0);
        Assert.True(report.Memory.AvailableBytes <= report.Memory.TotalBytes);
        Assert.NotEqual("unknown", report.Board.Architecture);
        Assert.NotEmpty(report.ToJson());
    }
}
