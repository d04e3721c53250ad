using EdgeNode.Drivers.Gpio;
using EdgeNode.Drivers.Linux;
using EdgeNode.Drivers.Tests.Simulated;

namespace EdgeNode.Drivers.Tests.Gpio;

public sealed class GpioChipTests
{
    private const string ChipPath = "/dev/gpiochip0";

    [Fact]
    public void Open_ReadsChipInfoAndLineNames()
    {
        var kernel = new SimulatedGpioKernel(ChipPath, "gpiochip0", "pinctrl-rp1", 54);
        using var chip = GpioChip.Open(ChipPath, kernel);

        Assert.Equal(new GpioChipInfo("gpiochip0", "pinctrl-rp1", 54), chip.Info);
        Assert.Equal(17u, chip.FindLine("GPIO17"));
        Assert.Null(chip.FindLine("NOPE"));
        Assert.False(chip.GetLineInfo(4).InUse);
    }

    [Fact]
    public void OutputRequest_SetsInitialValuesAndDrivesLines()
    {
        var kernel = new SimulatedGpioKernel(ChipPath, "gpiochip0", "sim", 8);
        using var chip = GpioChip.Open(ChipPath, kernel);
        using var lines = chip.RequestLines(new GpioLineSettings { Offsets = [2, 5], Flags = GpioLineFlags.Output, OutputValues = 0b10, Consumer = "leds" });

        Assert.False(kernel.Lines[2].PhysicalHigh);
        Assert.True(kernel.Lines[5].PhysicalHigh);
        var info = chip.GetLineInfo(5);
        Assert.Equal("leds", info.Consumer);
        Assert.True(info.InUse);
        Assert.True((info.Flags & GpioLineFlags.Output) != 0);

        lines.SetValues(0b01, 0b11);
        Assert.True(kernel.Lines[2].PhysicalHigh);
        Assert.False(kernel.Lines[5].PhysicalHigh);
        Assert.Equal(0b01UL, lines.GetValues(0b11));
    }

    [Fact]
    public void ActiveLowLines_InvertPhysicalLevels()
    {
        var kernel = new SimulatedGpioKernel(ChipPath, "gpiochip0", "sim", 8);
        using var chip = GpioChip.Open(ChipPath, kernel);
        using var lines = chip.RequestLines(new GpioLineSettings { Offsets = [3], Flags = GpioLineFlags.Output | GpioLineFlags.ActiveLow });
        lines.SetValue(0, true);
        Assert.False(kernel.Lines[3].PhysicalHigh);
        Assert.True(lines.GetValue(0));
    }

    [Fact]
    public void Requesting_ABusyLine_FailsWithEbusyAndReleasingFreesIt()
    {
        var kernel = new SimulatedGpioKernel(ChipPath, "gpiochip0", "sim", 8);
        using var chip = GpioChip.Open(ChipPath, kernel);
        var first = chip.RequestLines(new GpioLineSettings { Offsets = [1], Flags = GpioLineFlags.Input });
        var error = Assert.Throws<CharacterDeviceException>(() => chip.RequestLines(new GpioLineSettings { Offsets = [1], Flags = GpioLineFlags.Input }));
        Assert.Equal(Errno.EBUSY, error.ErrorNumber);
        Assert.Contains("busy", error.Message, StringComparison.Ordinal);
        first.Dispose();
        using var second = chip.RequestLines(new GpioLineSettings { Offsets = [1], Flags = GpioLineFlags.Input });
        Assert.Equal(2, kernel.OpenDescriptors);
    }

    [Fact]
    public void Reconfigure_TurnsAnInputIntoAnOutput()
    {
        var kernel = new SimulatedGpioKernel(ChipPath, "gpiochip0", "sim", 8);
        using var chip = GpioChip.Open(ChipPath, kernel);
        using var lines = chip.RequestLines(new GpioLineSettings { Offsets = [6], Flags = GpioLineFlags.Input });
        Assert.Throws<CharacterDeviceException>(() => lines.SetValue(0, true));
        lines.Reconfigure(GpioLineFlags.Output, outputValues: 1);
        Assert.True(kernel.Lines[6].PhysicalHigh);
        Assert.Contains(GpioV2Abi.LineSetConfigIoctl, kernel.IoctlLog);
    }

    [Fact]
    public void BadRequests_AreRefusedWithClearMessages()
    {
        var kernel = new SimulatedGpioKernel(ChipPath, "gpiochip0", "sim", 4);
        using var chip = GpioChip.Open(ChipPath, kernel);
        var missing = Assert.Throws<ArgumentException>(() => chip.RequestLines(new GpioLineSettings { Offsets = [9], Flags = GpioLineFlags.Input }));
        Assert.Contains("line 9 does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => chip.RequestLines(new GpioLineSettings { Offsets = [], Flags = GpioLineFlags.Input }));
        Assert.Throws<CharacterDeviceException>(() => GpioChip.Open("/dev/gpiochip9", kernel));
    }

    [Fact]
    public void FindChips_ListsChipNodesInNumberOrder()
    {
        using var dev = EdgeNode.TestSupport.TestPaths.NewTempDirectory("dev");
        foreach (var name in new[] { "gpiochip10", "gpiochip2", "gpiochip0", "gpiochipX", "i2c-1" })
            File.WriteAllText(dev.File(name), "");
        Assert.Equal(["gpiochip0", "gpiochip2", "gpiochip10"], GpioChip.FindChips(dev.Path).Select(Path.GetFileName));
    }
}
