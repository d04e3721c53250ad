using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.Tests.Simulated;

/// <summary>
/// The kernel side of /dev/i2c-N: I2C_SLAVE (0x0703) picks the target; read() and write() go to
/// the chip at that address; an address with no chip fails with ENXIO as a real adapter's NAK does.
/// </summary>
public sealed class SimulatedI2cAdapter(string path) : ICharacterDevices
{
    private readonly Dictionary<int, SimulatedRegisterDevice> _chips = [];
    private readonly Dictionary<int, int?> _targets = [];
    private int _nextFd = 3;

    public List<(uint Request, nint Value)> IntegerIoctls { get; } = [];

    public void Attach(SimulatedRegisterDevice chip) => _chips[chip.Address] = chip;

    public int Open(string requested)
    {
        if (requested != path)
            throw new CharacterDeviceException("open", requested, Errno.ENOENT);
        var fd = _nextFd++;
        _targets[fd] = null;
        return fd;
    }

    public void Close(int fd) => _targets.Remove(fd);

    public void Ioctl(int fd, uint request, Span<byte> argument) => throw new CharacterDeviceException("ioctl", path, Errno.ENOTTY);

    public void Ioctl(int fd, uint request, nint value)
    {
        IntegerIoctls.Add((request, value));
        if (request != 0x0703 || !_targets.ContainsKey(fd))
            throw new CharacterDeviceException("ioctl", path, Errno.EINVAL);
        _targets[fd] = (int)value;
    }

    public int Read(int fd, Span<byte> buffer)
    {
        Target(fd).Read(buffer);
        return buffer.Length;
    }

    public int Write(int fd, ReadOnlySpan<byte> buffer)
    {
        Target(fd).Write(buffer);
        return buffer.Length;
    }

    public bool WaitReadable(int fd, TimeSpan timeout) => true;

    private SimulatedRegisterDevice Target(int fd)
    {
        if (!_targets.TryGetValue(fd, out var address) || address is null)
            throw new CharacterDeviceException("read/write", path, Errno.EINVAL);
        return _chips.TryGetValue(address.Value, out var chip) ? chip : throw new CharacterDeviceException("read/write", path, Errno.ENXIO);
    }
}
