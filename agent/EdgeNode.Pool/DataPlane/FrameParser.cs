using System.Buffers;
using System.Buffers.Binary;

namespace EdgeNode.Pool.DataPlane;

/// <summary>The outcome of one <see cref="FrameParser.TryRead"/>.</summary>
public enum ParseStatus
{
    /// <summary>The buffer holds no whole frame yet: read more.</summary>
    NeedMore,

    /// <summary>A whole, checked frame was taken off the buffer.</summary>
    Frame,

    /// <summary>A whole frame was taken off the buffer but refused (unknown version, bad checksum): skip it and go on.</summary>
    Skipped,

    /// <summary>The stream cannot be read any further (bad magic or impossible lengths): close the connection.</summary>
    Broken,
}

/// <summary>
/// Finds frames in a receive buffer in place: the header is read from the buffer's first span when it is there
/// (else copied into 48 bytes of stack), the checksum runs over the buffer's segments, and the payload is handed
/// out as a slice. Nothing is allocated.
/// </summary>
public static class FrameParser
{
    /// <summary>
    /// Takes one frame off the front of <paramref name="buffer"/> (advancing it) when a whole one is there.
    /// </summary>
    /// <param name="maxPayloadBytes">Larger payloads break the stream (a frame that size cannot be legitimate here).</param>
    public static ParseStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxPayloadBytes, out ParsedFrame frame, out FrameRejection rejection, out FrameHeader header)
    {
        frame = default;
        header = default;
        rejection = FrameRejection.None;
        if (buffer.Length < FrameHeader.Size)
            return ParseStatus.NeedMore;

        Span<byte> copy = stackalloc byte[FrameHeader.Size];
        scoped ReadOnlySpan<byte> head;
        if (buffer.FirstSpan.Length >= FrameHeader.Size)
        {
            head = buffer.FirstSpan[..FrameHeader.Size];
        }
        else
        {
            buffer.Slice(0, FrameHeader.Size).CopyTo(copy);
            head = copy;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(head) != FrameHeader.Magic)
        {
            rejection = FrameRejection.BadMagic;
            return ParseStatus.Broken;
        }
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(head[FrameHeader.HeaderLengthOffset..]);
        var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(head[FrameHeader.PayloadLengthOffset..]);
        header = FrameHeader.ReadFrom(head);
        if (headerLength < FrameHeader.Size || payloadLength < 0 || payloadLength > maxPayloadBytes)
        {
            rejection = FrameRejection.BadLength;
            return ParseStatus.Broken;
        }
        var total = (long)headerLength + payloadLength;
        if (buffer.Length < total)
            return ParseStatus.NeedMore;

        var whole = buffer.Slice(0, total);
        buffer = buffer.Slice(total);
        if (head[FrameHeader.VersionOffset] != FrameHeader.CurrentVersion)
        {
            rejection = FrameRejection.UnknownVersion;
            return ParseStatus.Skipped;
        }
        // Version 1 headers are exactly Size bytes: anything else is not a v1 frame.
        if (headerLength != FrameHeader.Size)
        {
            rejection = FrameRejection.BadLength;
            return ParseStatus.Skipped;
        }
        var payload = whole.Slice(FrameHeader.Size);
        var state = Crc32C.Append(~0u, head[..FrameHeader.ChecksumOffset]);
        state = Crc32C.Append(state, payload);
        if (~state != header.Checksum)
        {
            rejection = FrameRejection.BadChecksum;
            return ParseStatus.Skipped;
        }
        frame = new ParsedFrame(header, payload);
        return ParseStatus.Frame;
    }
}
