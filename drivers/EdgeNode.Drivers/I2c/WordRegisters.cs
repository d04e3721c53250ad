using System.Buffers.Binary;

namespace EdgeNode.Drivers.I2c;

/// <summary>16-bit registers sent most significant byte first, as the TI INA2xx monitors do.</summary>
public static class WordRegisters
{
    public static ushort ReadWordBigEndian(this II2cDevice device, byte register)
    {
        ArgumentNullException.ThrowIfNull(device);
        Span<byte> answer = stackalloc byte[2];
        device.WriteRead([register], answer);
        return BinaryPrimitives.ReadUInt16BigEndian(answer);
    }

    public static void WriteWordBigEndian(this II2cDevice device, byte register, ushort value)
    {
        ArgumentNullException.ThrowIfNull(device);
        Span<byte> frame = [register, (byte)(value >> 8), (byte)value];
        device.Write(frame);
    }
}
