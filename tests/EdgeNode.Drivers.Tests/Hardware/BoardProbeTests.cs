using EdgeNode.Drivers.Tests.Boards;
using EdgeNode.Hardware;
using EdgeNode.Hardware.Report;
using EdgeNode.TestSupport;

namespace EdgeNode.Drivers.Tests.Hardware;

public sealed class BoardProbeTests : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("probe");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void RaspberryPi5_NamesBoardClustersSensorsAndNoBattery()
    {
        BoardTrees.RaspberryPi5(_root.Path);
        var report = HardwareProbe.Probe(_root.Path);

        Assert.Equal("Raspberry Pi 5 Model B Rev 1.0", report.Board.Model);
        Assert.Equal(BoardPlatform.RaspberryPi, report.Board.Platform);
        Assert.Equal("device-tree", report.Board.Source);
        Assert.Equal("Broadcom BCM2712", report.Board.Soc);
        Assert.Equal("aarch64", report.Board.Architecture);
        Assert.Equal("6.6.31+rpt-rpi-2712", report.Board.Kernel);

        Assert.Equal(4, report.Cpu.LogicalCores);
        var cluster = Assert.Single(report.Cpu.Clusters);
        Assert.Equal([0, 1, 2, 3], cluster.CoreIds);
        Assert.Equal("Cortex-A76", cluster.CoreType);
        Assert.Equal(2400000, cluster.MaxFrequencyKHz);
        Assert.Equal([0, 1, 2, 3], report.Cpu.PerformanceCoreIds);
        Assert.Equal(["neon", "fp16", "dotprod"], report.Cpu.IsaFeatures);

        Assert.Equal(8245008L * 1024, report.Memory.TotalBytes);
        Assert.Equal(7654320L * 1024, report.Memory.AvailableBytes);

        var storage = Assert.Single(report.Storage.Devices);
        Assert.Equal(("mmcblk0", "sd-card", 124735488L * 512), (storage.Name, storage.Kind, storage.SizeBytes));

        var zone = Assert.Single(report.ThermalZones);
        Assert.Equal(("cpu-thermal", 52.65, true), (zone.Type, zone.Celsius!.Value, zone.IsSoc));
        Assert.Equal(80, report.ThrottleCelsius);
        Assert.Empty(report.PowerSensors);
        Assert.Null(report.Battery);
        var fan = Assert.Single(report.Fans);
        Assert.Equal(("pwmfan", 2948), (fan.Name, fan.Rpm));
        Assert.Equal(77 / 255.0, fan.Duty!.Value, 6);

        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/gpiochip4", Kind: "gpio" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/i2c-1", Kind: "i2c" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/dri/renderD128", Kind: "drm" });
        Assert.Empty(report.Problems);
    }

    [Fact]
    public void JetsonOrinNano_NamesTegraAllCoresPerformanceAndIna3221Rails()
    {
        BoardTrees.JetsonOrinNano(_root.Path);
        var report = HardwareProbe.Probe(_root.Path);

        Assert.Equal("NVIDIA Jetson Orin Nano Developer Kit", report.Board.Model);
        Assert.Equal(BoardPlatform.Jetson, report.Board.Platform);
        Assert.Equal("NVIDIA Tegra234 (Orin)", report.Board.Soc);

        Assert.Equal(6, report.Cpu.LogicalCores);
        Assert.Equal(2, report.Cpu.Clusters.Count);
        Assert.Equal([0, 1, 2, 3], report.Cpu.Clusters[0].CoreIds);
        Assert.Equal([4, 5], report.Cpu.Clusters[1].CoreIds);
        Assert.All(report.Cpu.Clusters, cluster => Assert.Equal(("Cortex-A78AE", 1510400L, true), (cluster.CoreType, cluster.MaxFrequencyKHz!.Value, cluster.IsPerformance)));
        Assert.Equal([0, 1, 2, 3, 4, 5], report.Cpu.PerformanceCoreIds);

        Assert.Equal(9, report.ThermalZones.Count);
        Assert.Equal(99, report.ThrottleCelsius);
        Assert.Contains(report.ThermalZones, zone => zone is { Type: "tj-thermal", IsSoc: true });

        // Channels 1-3 are rails; in4-in7 are shunt voltages in µV and must not be read as rails.
        Assert.Equal(["ina3221/VDD_IN", "ina3221/VDD_CPU_GPU_CV", "ina3221/VDD_SOC"], report.PowerSensors.Select(sensor => sensor.Name));
        var input = report.PowerSensors[0];
        Assert.Equal(5.080, input.Volts!.Value, 6);
        Assert.Equal(1.488, input.Amps!.Value, 6);
        Assert.Equal(5.080 * 1.488, input.Watts!.Value, 6);

        Assert.Null(report.Battery);
        var nvme = Assert.Single(report.Storage.Devices);
        Assert.Equal(("nvme", "Samsung SSD 980 250GB"), (nvme.Kind, nvme.Model));
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/nvmap", Kind: "nvidia-tegra" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/nvhost-ctrl-gpu", Kind: "nvidia-tegra" });
    }

    [Fact]
    public void OrangePi5_SplitsLittleA55FromTwoBigA76Clusters()
    {
        BoardTrees.OrangePi5(_root.Path);
        var report = HardwareProbe.Probe(_root.Path);

        Assert.Equal("Orange Pi 5", report.Board.Model);
        Assert.Equal(BoardPlatform.Rockchip, report.Board.Platform);
        Assert.Equal("Rockchip RK3588", report.Board.Soc);

        Assert.Equal(8, report.Cpu.LogicalCores);
        Assert.Equal(3, report.Cpu.Clusters.Count);
        var little = report.Cpu.Clusters[0];
        Assert.Equal([0, 1, 2, 3], little.CoreIds);
        Assert.Equal(("Cortex-A55", 1800000L, 530, false), (little.CoreType, little.MaxFrequencyKHz!.Value, little.Capacity!.Value, little.IsPerformance));
        Assert.Equal([4, 5], report.Cpu.Clusters[1].CoreIds);
        Assert.Equal([6, 7], report.Cpu.Clusters[2].CoreIds);
        Assert.All(report.Cpu.Clusters.Skip(1), cluster => Assert.Equal(("Cortex-A76", 2256000L, true), (cluster.CoreType, cluster.MaxFrequencyKHz!.Value, cluster.IsPerformance)));
        Assert.Equal([4, 5, 6, 7], report.Cpu.PerformanceCoreIds);

        Assert.Equal(7, report.ThermalZones.Count);
        Assert.All(report.ThermalZones, zone => Assert.True(zone.IsSoc, zone.Type));
        Assert.Equal(75, report.ThrottleCelsius);
        Assert.Empty(report.PowerSensors);
        Assert.Null(report.Battery);
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/dri/renderD129", Kind: "drm" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/mali0", Kind: "mali-gpu" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/sys/class/pwm/pwmchip1", Kind: "pwm" });
        Assert.Equal("sd-card", Assert.Single(report.Storage.Devices).Kind);
    }

    [Fact]
    public void SnapdragonPhone_NamesPhoneSocFourClustersAndBattery()
    {
        BoardTrees.SnapdragonPhone(_root.Path);
        var report = HardwareProbe.Probe(_root.Path);

        Assert.Equal("samsung SM-S911B", report.Board.Model);
        Assert.Equal(BoardPlatform.AndroidPhone, report.Board.Platform);
        Assert.Equal("android", report.Board.Source);
        Assert.Equal("Qualcomm SM8550", report.Board.Soc);

        Assert.Equal(8, report.Cpu.LogicalCores);
        Assert.Equal(3, report.Cpu.Clusters.Count);
        Assert.Equal([0, 1, 2], report.Cpu.Clusters[0].CoreIds);
        Assert.Equal(("Cortex-A510", false), (report.Cpu.Clusters[0].CoreType, report.Cpu.Clusters[0].IsPerformance));
        Assert.Equal([3, 4, 5, 6], report.Cpu.Clusters[1].CoreIds);
        Assert.Equal(("Cortex-X3", 3360000L), (report.Cpu.Clusters[2].CoreType, report.Cpu.Clusters[2].MaxFrequencyKHz!.Value));
        Assert.Equal([3, 4, 5, 6, 7], report.Cpu.PerformanceCoreIds);
        Assert.Equal(["neon", "fp16", "dotprod", "i8mm", "bf16"], report.Cpu.IsaFeatures);

        Assert.False(report.ThermalZones.Single(zone => zone.Type == "battery").IsSoc);
        Assert.False(report.ThermalZones.Single(zone => zone.Type == "skin-msm-therm").IsSoc);
        Assert.True(report.ThermalZones.Single(zone => zone.Type == "cpu-1-2-0").IsSoc);
        Assert.Equal(95, report.ThrottleCelsius);

        Assert.NotNull(report.Battery);
        var battery = report.Battery;
        Assert.Equal(("battery", "Discharging", 67, false), (battery.Name, battery.Status, battery.CapacityPercent!.Value, battery.OnExternalPower));
        Assert.Equal(3.912, battery.Volts!.Value, 6);
        Assert.Equal(3.912 * 0.482, battery.Watts!.Value, 6);
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/adsprpc-smd", Kind: "qualcomm-fastrpc" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/fastrpc-cdsp", Kind: "qualcomm-fastrpc" });
        Assert.Contains(report.DeviceNodes, node => node is { Path: "/dev/kgsl-3d0", Kind: "adreno-gpu" });
    }

    [Fact]
    public void IntelMiniPc_NamesDmiModelAndX86Features()
    {
        BoardTrees.IntelMiniPc(_root.Path);
        var report = HardwareProbe.Probe(_root.Path);

        Assert.Equal("AZW MINI S", report.Board.Model);
        Assert.Equal(("dmi", BoardPlatform.X86Pc, "Intel(R) N100", "x86_64"), (report.Board.Source, report.Board.Platform, report.Board.Soc, report.Board.Architecture));
        var cluster = Assert.Single(report.Cpu.Clusters);
        Assert.Equal([0, 1, 2, 3], cluster.CoreIds);
        Assert.Equal([0, 1, 2, 3], report.Cpu.PerformanceCoreIds);
        Assert.Equal(["sse4.2", "avx", "avx2", "fma", "f16c", "avx-vnni"], report.Cpu.IsaFeatures);
        Assert.Contains(report.ThermalZones, zone => zone is { Type: "x86_pkg_temp", IsSoc: true });
        Assert.Null(report.Battery);
        Assert.Equal("nvme", Assert.Single(report.Storage.Devices).Kind);
    }

    [Fact]
    public void EmptyRoot_GivesAReportWithProblemsInsteadOfThrowing()
    {
        var report = HardwareProbe.Probe(_root.Path);
        Assert.Equal("unknown", report.Board.Model);
        Assert.Equal(0, report.Cpu.LogicalCores);
        Assert.Contains(report.Problems, problem => problem.Contains("cpuinfo", StringComparison.Ordinal));
        Assert.NotEmpty(report.ToText());
    }
}
