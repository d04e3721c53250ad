using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.I2c;

/// <summary>
/// A device on /dev/i2c-N, addressed once with the I2C_SLAVE ioctl; plain read() and write()
/// then talk to that address. Register reads are a pointer write followed by a separate read
/// (a STOP between them), which the INA2xx family and most SMBus sensors accept.
/// </summary>
public sealed class LinuxI2cDevice : II2cDevice
{
    /// <summary>I2C_SLAVE from include/uapi/linux/i2c-dev.h: set the 7-bit target address.</summary>
    public const uint I2cSlaveIoctl = 0x0703;

    private readonly ICharacterDevices _devices;
    private readonly string _path;
    private int _fd;

    public LinuxI2cDevice(int busNumber, int address, ICharacterDevices? devices = null, string deviceFolder = "/dev")
    {
        ArgumentOutOfRangeException.ThrowIfNegative(busNumber);
        if (address is < 0x03 or > 0x77)
            throw new ArgumentOutOfRangeException(nameof(address), address, "a 7-bit I2C address is 0x03..0x77");
        _devices = devices ?? LinuxCharacterDevices.Instance;
        BusNumber = busNumber;
        Address = address;
        _path = Path.Combine(deviceFolder, $"i2c-{busNumber}");
        _fd = _devices.Open(_path);
        try
        {
            _devices.Ioctl(_fd, I2cSlaveIoctl, address);
        }
        catch
        {
            _devices.Close(_fd);
            throw;
        }
    }

    public int BusNumber { get; }

    public int Address { get; }

    public void Write(ReadOnlySpan<byte> data)
    {
        var written = _devices.Write(LiveFd(), data);
        if (written != data.Length)
            throw new IOException($"I2C write to 0x{Address:x2} on {_path}: {written} of {data.Length} bytes acknowledged");
    }

    public void Read(Span<byte> data)
    {
        var read = _devices.Read(LiveFd(), data);
        if (read != data.Length)
            throw new IOException($"I2C read from 0x{Address:x2} on {_path}: {read} of {data.Length} bytes");
    }

    public void WriteRead(ReadOnlySpan<byte> write, Span<byte> read)
    {
        Write(write);
        Read(read);
    }

    private int LiveFd() => _fd >= 0 ? _fd : throw new ObjectDisposedException(_path);

    public void Dispose()
    {
        if (_fd < 0)
            return;
        _devices.Close(_fd);
        _fd = -1;
    }
}
