namespace EdgeNode.Drivers.Linux;

/// <summary>
/// The few system calls the drivers make on Linux character devices (/dev/gpiochipN, /dev/i2c-N).
/// Drivers talk to the kernel only through this boundary, so a simulated kernel in tests sees the
/// very bytes the driver would hand to ioctl, read and write.
/// </summary>
public interface ICharacterDevices
{
    /// <summary>Opens a device node for reading and writing; returns its file descriptor.</summary>
    int Open(string path);

    void Close(int fd);

    /// <summary>An ioctl whose argument points at a structure the kernel reads and may fill.</summary>
    void Ioctl(int fd, uint request, Span<byte> argument);

    /// <summary>An ioctl whose argument is a plain integer (for example I2C_SLAVE's address).</summary>
    void Ioctl(int fd, uint request, nint value);

    /// <summary>Reads up to buffer.Length bytes; returns how many were read.</summary>
    int Read(int fd, Span<byte> buffer);

    /// <summary>Writes the whole buffer; returns how many bytes the device took.</summary>
    int Write(int fd, ReadOnlySpan<byte> buffer);

    /// <summary>Waits until the descriptor has data to read; false when the timeout passed first.</summary>
    bool WaitReadable(int fd, TimeSpan timeout);
}
