using EdgeNode.Drivers.Gpio;

namespace EdgeNode.Drivers.Tests.Gpio;

/// <summary>
/// The real ioctl path against the kernel's gpio-sim (configfs) when the machine has it and runs as
/// root (skipped, and reported so, elsewhere); the same checks run against the simulated chip everywhere.
/// </summary>
public sealed class GpioSimTests
{
    [GpioSimFact]
    public void RealKernelGpioSim_RoundTripsValues()
    {
        var name = $"edgenode-{Environment.ProcessId}";
        var device = Path.Combine(GpioSimFactAttribute.ConfigFs, name);
        Directory.CreateDirectory(device);
        try
        {
            var bank = Path.Combine(device, "bank0");
            Directory.CreateDirectory(bank);
            File.WriteAllText(Path.Combine(bank, "num_lines"), "8");
            File.WriteAllText(Path.Combine(device, "live"), "1");
            var chipName = File.ReadAllText(Path.Combine(bank, "chip_name")).Trim();

            using var chip = GpioChip.Open($"/dev/{chipName}");
            Assert.Equal(8u, chip.Info.LineCount);
            using var lines = chip.RequestLines(new GpioLineSettings { Offsets = [0, 1], Flags = GpioLineFlags.Output, OutputValues = 0b10 });
            Assert.Equal(0b10UL, lines.GetValues(0b11));
            lines.SetValues(0b01, 0b11);
            Assert.Equal(0b01UL, lines.GetValues(0b11));
            Assert.Equal("edgenode", chip.GetLineInfo(0).Consumer);
        }
        finally
        {
            File.WriteAllText(Path.Combine(device, "live"), "0");
            Directory.Delete(Path.Combine(device, "bank0"));
            Directory.Delete(device);
        }
    }
}
