using System.Buffers;

namespace EdgeNode.Pool.DataPlane;

/// <summary>A frame found in a receive buffer: its header and its payload as a slice of that buffer (not copied).</summary>
public readonly struct ParsedFrame(FrameHeader header, ReadOnlySequence<byte> payload)
{
    public FrameHeader Header { get; } = header;

    /// <summary>Valid until the receive buffer is advanced past it.</summary>
    public ReadOnlySequence<byte> Payload { get; } = payload;
}
