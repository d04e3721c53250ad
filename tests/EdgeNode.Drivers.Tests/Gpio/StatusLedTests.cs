using EdgeNode.Drivers.Gpio;
using EdgeNode.Drivers.Tests.Simulated;

namespace EdgeNode.Drivers.Tests.Gpio;

public sealed class StatusLedTests
{
    private static (SimulatedGpioKernel Kernel, StatusLed Led, ManualTimeProvider Time) Setup(bool activeLow = false)
    {
        var kernel = new SimulatedGpioKernel("/dev/gpiochip0", "gpiochip0", "sim", 32);
        var time = new ManualTimeProvider();
        using var chip = GpioChip.Open("/dev/gpiochip0", kernel);
        return (kernel, StatusLed.Open(chip, 17, activeLow, time), time);
    }

    private static string Trace(SimulatedGpioKernel kernel, StatusLed led, ManualTimeProvider time, int steps, int stepMs)
    {
        var trace = new char[steps];
        for (var i = 0; i < steps; i++)
        {
            led.Refresh();
            trace[i] = kernel.Lines[17].PhysicalHigh ? '#' : '.';
            time.Advance(TimeSpan.FromMilliseconds(stepMs));
        }
        return new string(trace);
    }

    [Fact]
    public void EachStatus_HasItsOwnPatternOnThePin()
    {
        var (kernel, led, time) = Setup();
        using (led)
        {
            Assert.Equal("....", Trace(kernel, led, time, 4, 100));

            led.Status = NodeStatus.Serving;
            Assert.Equal("##########", Trace(kernel, led, time, 10, 100));

            led.Status = NodeStatus.Joining;
            Assert.Equal("#####.....#####.....", Trace(kernel, led, time, 20, 100));

            led.Status = NodeStatus.Draining;
            Assert.Equal("#.#.......#.#.......", Trace(kernel, led, time, 20, 100));

            led.Status = NodeStatus.Error;
            Assert.Equal("#.#.#.#.", Trace(kernel, led, time, 8, 100));
        }
        Assert.False(kernel.Lines[17].PhysicalHigh);
        Assert.Null(kernel.Lines[17].RequestFd);
    }

    [Fact]
    public void ActiveLowLed_IsLitByDrivingThePinLow()
    {
        var (kernel, led, _) = Setup(activeLow: true);
        using (led)
        {
            led.Status = NodeStatus.Serving;
            Assert.True(led.IsOn);
            Assert.False(kernel.Lines[17].PhysicalHigh);
        }
    }

    [Fact]
    public void Refresh_WritesTheLineOnlyWhenTheLevelChanges()
    {
        var (kernel, led, time) = Setup();
        using (led)
        {
            led.Status = NodeStatus.Serving;
            var writes = kernel.IoctlLog.Count(request => request == GpioV2Abi.LineSetValuesIoctl);
            for (var i = 0; i < 10; i++)
            {
                time.Advance(TimeSpan.FromMilliseconds(50));
                led.Refresh();
            }
            Assert.Equal(writes, kernel.IoctlLog.Count(request => request == GpioV2Abi.LineSetValuesIoctl));
        }
    }
}
