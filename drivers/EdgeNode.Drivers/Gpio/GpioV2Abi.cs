using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeNode.Drivers.Gpio;

// The GPIO character-device uAPI v2 (include/uapi/linux/gpio.h), laid out byte for byte.
// Sizes and offsets are asserted in the tests against the header's numbers; a layout slip here
// would make the kernel read garbage, so nothing in this file is allowed to be "roughly right".

/// <summary>struct gpiochip_info: 68 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct GpioChipInfoAbi
{
    public fixed byte Name[GpioV2Abi.MaxNameSize];
    public fixed byte Label[GpioV2Abi.MaxNameSize];
    public uint Lines;
}

/// <summary>struct gpio_v2_line_attribute: 16 bytes; the union at offset 8 holds flags, values or debounce_period_us.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GpioV2LineAttribute
{
    public uint Id;
    public uint Padding;
    // flags and values are u64; debounce_period_us is the low u32 of the same 8 bytes on little-endian machines.
    public ulong Value;
}

/// <summary>struct gpio_v2_line_config_attribute: 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GpioV2LineConfigAttribute
{
    public GpioV2LineAttribute Attribute;
    public ulong Mask;
}

/// <summary>attrs[GPIO_V2_LINE_NUM_ATTRS_MAX] of struct gpio_v2_line_config.</summary>
[InlineArray(GpioV2Abi.LineNumAttrsMax)]
public struct GpioV2LineConfigAttributes
{
    private GpioV2LineConfigAttribute _first;
}

/// <summary>attrs[GPIO_V2_LINE_NUM_ATTRS_MAX] of struct gpio_v2_line_info.</summary>
[InlineArray(GpioV2Abi.LineNumAttrsMax)]
public struct GpioV2LineAttributes
{
    private GpioV2LineAttribute _first;
}

/// <summary>struct gpio_v2_line_config: 272 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct GpioV2LineConfig
{
    public ulong Flags;
    public uint NumAttrs;
    public fixed uint Padding[5];
    public GpioV2LineConfigAttributes Attrs;
}

/// <summary>struct gpio_v2_line_request: 592 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct GpioV2LineRequest
{
    public fixed uint Offsets[GpioV2Abi.LinesMax];
    public fixed byte Consumer[GpioV2Abi.MaxNameSize];
    public GpioV2LineConfig Config;
    public uint NumLines;
    public uint EventBufferSize;
    public fixed uint Padding[5];
    public int Fd;
}

/// <summary>struct gpio_v2_line_values: 16 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GpioV2LineValues
{
    public ulong Bits;
    public ulong Mask;
}

/// <summary>struct gpio_v2_line_info: 256 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct GpioV2LineInfo
{
    public fixed byte Name[GpioV2Abi.MaxNameSize];
    public fixed byte Consumer[GpioV2Abi.MaxNameSize];
    public uint Offset;
    public uint NumAttrs;
    public ulong Flags;
    public GpioV2LineAttributes Attrs;
    public fixed uint Padding[4];
}

/// <summary>struct gpio_v2_line_event: 48 bytes, what read() on a line request returns per edge.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct GpioV2LineEvent
{
    public ulong TimestampNs;
    public uint Id;
    public uint Offset;
    public uint Seqno;
    public uint LineSeqno;
    public fixed uint Padding[6];
}

/// <summary>Constants and ioctl numbers of the v2 uAPI.</summary>
public static unsafe class GpioV2Abi
{
    public const int MaxNameSize = 32;
    public const int LinesMax = 64;
    public const int LineNumAttrsMax = 10;

    public const uint AttrIdFlags = 1;
    public const uint AttrIdOutputValues = 2;
    public const uint AttrIdDebounce = 3;

    public const uint EventRisingEdge = 1;
    public const uint EventFallingEdge = 2;

    private const uint IoctlType = 0xB4;

    public static uint GetChipInfoIoctl { get; } = Linux.IoctlRequest.Read(IoctlType, 0x01, sizeof(GpioChipInfoAbi));
    public static uint GetLineInfoIoctl { get; } = Linux.IoctlRequest.ReadWrite(IoctlType, 0x05, sizeof(GpioV2LineInfo));
    public static uint GetLineIoctl { get; } = Linux.IoctlRequest.ReadWrite(IoctlType, 0x07, sizeof(GpioV2LineRequest));
    public static uint LineSetConfigIoctl { get; } = Linux.IoctlRequest.ReadWrite(IoctlType, 0x0D, sizeof(GpioV2LineConfig));
    public static uint LineGetValuesIoctl { get; } = Linux.IoctlRequest.ReadWrite(IoctlType, 0x0E, sizeof(GpioV2LineValues));
    public static uint LineSetValuesIoctl { get; } = Linux.IoctlRequest.ReadWrite(IoctlType, 0x0F, sizeof(GpioV2LineValues));

    /// <summary>The bytes of a struct, for handing to ioctl/read without a copy.</summary>
    public static Span<byte> BytesOf<T>(ref T value) where T : unmanaged =>
        MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1));

    /// <summary>Copies a name into a fixed NUL-terminated char array, cut to fit.</summary>
    public static void WriteName(byte* destination, string text)
    {
        var target = new Span<byte>(destination, MaxNameSize);
        target.Clear();
        var length = System.Text.Encoding.UTF8.GetBytes(text.AsSpan(0, Math.Min(text.Length, MaxNameSize - 1)), target[..(MaxNameSize - 1)]);
        target[length] = 0;
    }

    public static string ReadName(byte* source)
    {
        var span = new ReadOnlySpan<byte>(source, MaxNameSize);
        var end = span.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }
}
