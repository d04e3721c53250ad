namespace EdgeNode.Drivers.Gpio;

/// <summary>One edge seen on a requested line (struct gpio_v2_line_event, decoded).</summary>
public readonly record struct GpioEdgeEvent(uint Offset, bool Rising, ulong TimestampNanoseconds, uint Sequence, uint LineSequence);
