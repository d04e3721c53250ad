using EdgeNode.Drivers.Gpio;
using EdgeNode.Drivers.Tests.Simulated;

namespace EdgeNode.Drivers.Tests.Gpio;

public sealed class LeaveButtonTests
{
    [Fact]
    public void Button_IsRequestedWithPullUpEdgeAndDebounce()
    {
        var kernel = new SimulatedGpioKernel("/dev/gpiochip0", "gpiochip0", "sim", 32);
        using var chip = GpioChip.Open("/dev/gpiochip0", kernel);
        using var button = LeaveButton.Open(chip, 27);

        var line = kernel.Lines[27];
        var flags = (GpioLineFlags)line.Flags;
        Assert.Equal(GpioLineFlags.Input | GpioLineFlags.ActiveLow | GpioLineFlags.BiasPullUp | GpioLineFlags.EdgeRising, flags);
        Assert.Equal(10_000u, line.DebounceMicroseconds);
        Assert.Equal("edgenode-button", line.Consumer);
        Assert.True(line.PhysicalHigh);
        Assert.False(button.IsHeld);
    }

    [Fact]
    public void Press_IsSeenOnceAndBouncesAreSwallowed()
    {
        var kernel = new SimulatedGpioKernel("/dev/gpiochip0", "gpiochip0", "sim", 32);
        using var chip = GpioChip.Open("/dev/gpiochip0", kernel);
        using var button = LeaveButton.Open(chip, 27);

        Assert.False(button.WaitForPress(TimeSpan.Zero));

        // Pressing pulls the pin to ground: an active (rising) edge.
        kernel.DrivePin(27, high: false);
        Assert.True(button.IsHeld);
        // A bounce 2 ms later: release and press again inside the hold-off.
        kernel.DrivePin(27, high: true);
        kernel.DrivePin(27, high: false);
        kernel.DrivePin(27, high: true);

        Assert.True(button.WaitForPress(TimeSpan.Zero));
        Assert.False(button.WaitForPress(TimeSpan.Zero));

        kernel.AdvanceClock(TimeSpan.FromSeconds(1));
        kernel.DrivePin(27, high: false);
        Assert.True(button.WaitForPress(TimeSpan.Zero));
    }
}
