namespace EdgeNode.Drivers.Gpio;

/// <summary>What GPIO_GET_CHIPINFO_IOCTL says about a chip.</summary>
public sealed record GpioChipInfo(string Name, string Label, uint LineCount);
