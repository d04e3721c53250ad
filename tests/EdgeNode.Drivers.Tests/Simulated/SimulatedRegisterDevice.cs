using EdgeNode.Drivers.I2c;

namespace EdgeNode.Drivers.Tests.Simulated;

/// <summary>
/// A chip with a register pointer and 16-bit big-endian registers, as the INA2xx family works:
/// a one-byte write sets the pointer, a three-byte write sets pointer and register, a read returns
/// the register at the pointer MSB first.
/// </summary>
public abstract class SimulatedRegisterDevice : II2cDevice
{
    private byte _pointer;

    protected SimulatedRegisterDevice(int busNumber, int address)
    {
        BusNumber = busNumber;
        Address = address;
    }

    public int BusNumber { get; }

    public int Address { get; }

    public List<(byte Register, ushort Value)> Writes { get; } = [];

    public void Write(ReadOnlySpan<byte> data)
    {
        if (data.Length is not (1 or 3))
            throw new IOException($"the chip takes a pointer byte or a pointer and a word, not {data.Length} bytes");
        _pointer = data[0];
        if (data.Length == 3)
        {
            var value = (ushort)((data[1] << 8) | data[2]);
            Writes.Add((_pointer, value));
            WriteRegister(_pointer, value);
        }
    }

    public void Read(Span<byte> data)
    {
        if (data.Length != 2)
            throw new IOException($"registers are read two bytes at a time, not {data.Length}");
        var value = ReadRegister(_pointer);
        data[0] = (byte)(value >> 8);
        data[1] = (byte)value;
    }

    public void WriteRead(ReadOnlySpan<byte> write, Span<byte> read)
    {
        Write(write);
        Read(read);
    }

    protected abstract ushort ReadRegister(byte register);

    protected abstract void WriteRegister(byte register, ushort value);

    public void Dispose()
    {
    }
}
