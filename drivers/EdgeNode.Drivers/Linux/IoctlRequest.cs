namespace EdgeNode.Drivers.Linux;

/// <summary>
/// The asm-generic ioctl number encoding (used by arm, arm64, x86 and riscv):
/// bits 0-7 number, 8-15 type, 16-29 argument size, 30-31 direction.
/// </summary>
public static class IoctlRequest
{
    private const int NumberShift = 0;
    private const int TypeShift = 8;
    private const int SizeShift = 16;
    private const int DirectionShift = 30;
    private const int SizeBits = 14;

    public const uint DirectionNone = 0;
    public const uint DirectionWrite = 1;
    public const uint DirectionRead = 2;

    public static uint Encode(uint direction, uint type, uint number, int size)
    {
        if ((uint)size >= 1u << SizeBits)
            throw new ArgumentOutOfRangeException(nameof(size), size, "an ioctl argument is at most 16383 bytes");
        return (direction << DirectionShift) | ((uint)size << SizeShift) | (type << TypeShift) | (number << NumberShift);
    }

    /// <summary>_IOR: the kernel writes the argument back to user space.</summary>
    public static uint Read(uint type, uint number, int size) => Encode(DirectionRead, type, number, size);

    /// <summary>_IOWR: the kernel reads the argument and writes results into it.</summary>
    public static uint ReadWrite(uint type, uint number, int size) => Encode(DirectionRead | DirectionWrite, type, number, size);
}
