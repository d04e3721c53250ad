namespace EdgeNode.Drivers.Gpio;

/// <summary>What GPIO_V2_GET_LINEINFO_IOCTL says about one line.</summary>
public sealed record GpioLineInfo(uint Offset, string Name, string Consumer, GpioLineFlags Flags)
{
    public bool InUse => (Flags & GpioLineFlags.Used) != 0;
}
