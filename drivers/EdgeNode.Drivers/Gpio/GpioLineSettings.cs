namespace EdgeNode.Drivers.Gpio;

/// <summary>
/// A request for one or more lines of a chip. OutputValues and the bits of every value bitmap are
/// indexed by position in <see cref="Offsets"/>, as in the uAPI, not by line offset.
/// </summary>
public sealed record GpioLineSettings
{
    public required IReadOnlyList<uint> Offsets { get; init; }

    public required GpioLineFlags Flags { get; init; }

    public string Consumer { get; init; } = "edgenode";

    /// <summary>Initial output levels (active = 1) for output lines.</summary>
    public ulong OutputValues { get; init; }

    /// <summary>Kernel-side debounce for input lines; null leaves the line's default.</summary>
    public TimeSpan? Debounce { get; init; }

    /// <summary>How many edge events the kernel should buffer; 0 lets it choose.</summary>
    public uint EventBufferSize { get; init; }
}
