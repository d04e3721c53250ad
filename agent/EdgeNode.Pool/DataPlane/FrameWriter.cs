using System.Buffers;
using System.Buffers.Binary;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// Writes frames into a buffer writer (a connection's send pipe): the payload is produced straight into the
/// writer's memory and the header, with its checksum, is written in front of it afterwards.
/// </summary>
public static class FrameWriter
{
    /// <summary>Writes a frame whose payload is already in bytes; returns the frame's size on the wire.</summary>
    public static int Write(IBufferWriter<byte> writer, FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var span = writer.GetSpan(FrameHeader.Size + payload.Length);
        payload.CopyTo(span[FrameHeader.Size..]);
        return Complete(writer, span, header, payload.Length);
    }

    /// <summary>
    /// Finishes a frame whose payload of <paramref name="payloadLength"/> bytes was written at
    /// <c>span[FrameHeader.Size..]</c> of a span from <c>writer.GetSpan</c>: writes the header and checksum, advances.
    /// </summary>
    public static int Complete(IBufferWriter<byte> writer, Span<byte> span, FrameHeader header, int payloadLength)
    {
        header.Version = FrameHeader.CurrentVersion;
        header.HeaderLength = FrameHeader.Size;
        header.PayloadLength = payloadLength;
        header.WriteTo(span);
        var state = Crc32C.Append(~0u, span[..FrameHeader.ChecksumOffset]);
        state = Crc32C.Append(state, span.Slice(FrameHeader.Size, payloadLength));
        BinaryPrimitives.WriteUInt32LittleEndian(span[FrameHeader.ChecksumOffset..], ~state);
        var total = FrameHeader.Size + payloadLength;
        writer.Advance(total);
        return total;
    }
}
