namespace EdgeNode.Drivers.I2c;

/// <summary>One device at one address on an I2C bus: the only thing a sensor driver needs.</summary>
public interface II2cDevice : IDisposable
{
    int BusNumber { get; }

    int Address { get; }

    void Write(ReadOnlySpan<byte> data);

    void Read(Span<byte> data);

    /// <summary>Writes (usually a register pointer), then reads the answer.</summary>
    void WriteRead(ReadOnlySpan<byte> write, Span<byte> read);
}
