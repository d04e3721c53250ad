using EdgeNode.Drivers.Gpio;
using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.Tests.Gpio;

/// <summary>The real libc path, on nodes every Linux machine has.</summary>
public sealed class LinuxCharacterDevicesTests
{
    [Fact]
    public void MissingNode_FailsWithEnoentAndThePath()
    {
        var error = Assert.Throws<CharacterDeviceException>(() => GpioChip.Open("/dev/gpiochip-edgenode-missing"));
        Assert.Equal(Errno.ENOENT, error.ErrorNumber);
        Assert.Contains("/dev/gpiochip-edgenode-missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GpioIoctlOnANonGpioNode_FailsWithEnottyAndClosesTheDescriptor()
    {
        var error = Assert.Throws<CharacterDeviceException>(() => GpioChip.Open("/dev/null"));
        Assert.Equal(Errno.ENOTTY, error.ErrorNumber);
    }

    [Fact]
    public void ReadWriteAndPoll_WorkOnDevZero()
    {
        var devices = LinuxCharacterDevices.Instance;
        var fd = devices.Open("/dev/zero");
        try
        {
            Span<byte> buffer = [1, 2, 3, 4];
            Assert.Equal(4, devices.Read(fd, buffer));
            Assert.Equal([0, 0, 0, 0], buffer.ToArray());
            Assert.Equal(4, devices.Write(fd, buffer));
            Assert.True(devices.WaitReadable(fd, TimeSpan.Zero));
        }
        finally
        {
            devices.Close(fd);
        }
    }
}
