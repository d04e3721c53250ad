using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeNode.Drivers.Gpio;
using EdgeNode.Drivers.I2c;
using EdgeNode.Drivers.Linux;

namespace EdgeNode.Drivers.Tests.Gpio;

/// <summary>
/// Sizes and offsets from include/uapi/linux/gpio.h (sizeof/offsetof of the kernel's structs on
/// x86-64 and arm64, which agree because every u64 there is __aligned_u64).
/// </summary>
public sealed unsafe class GpioAbiLayoutTests
{
    [Fact]
    public void StructSizes_MatchTheUapi()
    {
        Assert.Equal(68, Unsafe.SizeOf<GpioChipInfoAbi>());
        Assert.Equal(16, Unsafe.SizeOf<GpioV2LineAttribute>());
        Assert.Equal(24, Unsafe.SizeOf<GpioV2LineConfigAttribute>());
        Assert.Equal(272, Unsafe.SizeOf<GpioV2LineConfig>());
        Assert.Equal(592, Unsafe.SizeOf<GpioV2LineRequest>());
        Assert.Equal(16, Unsafe.SizeOf<GpioV2LineValues>());
        Assert.Equal(256, Unsafe.SizeOf<GpioV2LineInfo>());
        Assert.Equal(48, Unsafe.SizeOf<GpioV2LineEvent>());

        // The marshaller agrees for the structs it can lay out (those without inline arrays of structs).
        Assert.Equal(68, Marshal.SizeOf<GpioChipInfoAbi>());
        Assert.Equal(16, Marshal.SizeOf<GpioV2LineAttribute>());
        Assert.Equal(24, Marshal.SizeOf<GpioV2LineConfigAttribute>());
        Assert.Equal(16, Marshal.SizeOf<GpioV2LineValues>());
        Assert.Equal(48, Marshal.SizeOf<GpioV2LineEvent>());
    }

    [Fact]
    public void FieldOffsets_MatchTheUapi()
    {
        var request = default(GpioV2LineRequest);
        Assert.Equal(256, Offset(ref request, ref request.Consumer[0]));
        Assert.Equal(288, Offset(ref request, ref request.Config));
        Assert.Equal(296, Offset(ref request, ref request.Config.NumAttrs));
        Assert.Equal(320, Offset(ref request, ref request.Config.Attrs[0]));
        Assert.Equal(560, Offset(ref request, ref request.NumLines));
        Assert.Equal(564, Offset(ref request, ref request.EventBufferSize));
        Assert.Equal(568, Offset(ref request, ref request.Padding[0]));
        Assert.Equal(588, Offset(ref request, ref request.Fd));

        var config = default(GpioV2LineConfig);
        Assert.Equal(8, Offset(ref config, ref config.NumAttrs));
        Assert.Equal(12, Offset(ref config, ref config.Padding[0]));
        Assert.Equal(32, Offset(ref config, ref config.Attrs[0]));
        Assert.Equal(56, Offset(ref config, ref config.Attrs[1]));

        var attribute = default(GpioV2LineConfigAttribute);
        Assert.Equal(8, Offset(ref attribute, ref attribute.Attribute.Value));
        Assert.Equal(16, Offset(ref attribute, ref attribute.Mask));

        var info = default(GpioV2LineInfo);
        Assert.Equal(32, Offset(ref info, ref info.Consumer[0]));
        Assert.Equal(64, Offset(ref info, ref info.Offset));
        Assert.Equal(68, Offset(ref info, ref info.NumAttrs));
        Assert.Equal(72, Offset(ref info, ref info.Flags));
        Assert.Equal(80, Offset(ref info, ref info.Attrs[0]));
        Assert.Equal(240, Offset(ref info, ref info.Padding[0]));

        var lineEvent = default(GpioV2LineEvent);
        Assert.Equal(8, Offset(ref lineEvent, ref lineEvent.Id));
        Assert.Equal(12, Offset(ref lineEvent, ref lineEvent.Offset));
        Assert.Equal(16, Offset(ref lineEvent, ref lineEvent.Seqno));
        Assert.Equal(20, Offset(ref lineEvent, ref lineEvent.LineSeqno));

        var chip = default(GpioChipInfoAbi);
        Assert.Equal(32, Offset(ref chip, ref chip.Label[0]));
        Assert.Equal(64, Offset(ref chip, ref chip.Lines));

        Assert.Equal(8, (int)Marshal.OffsetOf<GpioV2LineEvent>(nameof(GpioV2LineEvent.Id)));
        Assert.Equal(16, (int)Marshal.OffsetOf<GpioV2LineConfigAttribute>(nameof(GpioV2LineConfigAttribute.Mask)));
    }

    [Fact]
    public void IoctlNumbers_FollowTheIowrEncoding()
    {
        // _IOC(dir, type, nr, size) = dir << 30 | size << 16 | type << 8 | nr; _IOR dir 2, _IOWR dir 3.
        Assert.Equal((2u << 30) | (68u << 16) | (0xB4u << 8) | 0x01, GpioV2Abi.GetChipInfoIoctl);
        Assert.Equal(0x8044B401u, GpioV2Abi.GetChipInfoIoctl);
        Assert.Equal(0xC100B405u, GpioV2Abi.GetLineInfoIoctl);
        Assert.Equal(0xC250B407u, GpioV2Abi.GetLineIoctl);
        Assert.Equal((3u << 30) | (592u << 16) | (0xB4u << 8) | 0x07, GpioV2Abi.GetLineIoctl);
        Assert.Equal(0xC110B40Du, GpioV2Abi.LineSetConfigIoctl);
        Assert.Equal(0xC010B40Eu, GpioV2Abi.LineGetValuesIoctl);
        Assert.Equal(0xC010B40Fu, GpioV2Abi.LineSetValuesIoctl);
        Assert.Equal(0x0703u, LinuxI2cDevice.I2cSlaveIoctl);
        Assert.Throws<ArgumentOutOfRangeException>(() => IoctlRequest.ReadWrite(0xB4, 1, 1 << 14));
    }

    [Fact]
    public void LineFlags_AreTheUapiBits()
    {
        Assert.Equal(1UL << 2, (ulong)GpioLineFlags.Input);
        Assert.Equal(1UL << 3, (ulong)GpioLineFlags.Output);
        Assert.Equal(1UL << 4, (ulong)GpioLineFlags.EdgeRising);
        Assert.Equal(1UL << 8, (ulong)GpioLineFlags.BiasPullUp);
        Assert.Equal(1UL << 10, (ulong)GpioLineFlags.BiasDisabled);
    }

    private static int Offset<TStruct, TField>(ref TStruct owner, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref owner), ref Unsafe.As<TField, byte>(ref field));
}
