using System.Buffers.Binary;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// The fixed 48-byte little-endian header in front of every data-plane frame (docs/pool-data-plane.md has the table).
/// Magic, version, type, flags, header length and payload length keep their offsets in every version, so a node can
/// skip a frame of a version it does not speak and tell the sender why.
/// </summary>
public struct FrameHeader
{
    /// <summary>"ENDP" read as a little-endian uint32.</summary>
    public const uint Magic = 0x50444E45;

    /// <summary>The version this build writes and the only one it reads.</summary>
    public const byte CurrentVersion = 1;

    /// <summary>Bytes of a version-1 header; a later version may declare more (they are skipped as a unit).</summary>
    public const int Size = 48;

    // Offsets within the header: the first six are the same in every version.
    internal const int MagicOffset = 0;
    internal const int VersionOffset = 4;
    internal const int TypeOffset = 5;
    internal const int FlagsOffset = 6;
    internal const int HeaderLengthOffset = 8;
    internal const int PayloadLengthOffset = 12;
    internal const int SessionOffset = 16;
    internal const int EpochOffset = 24;
    internal const int StepOffset = 32;
    internal const int FirstPositionOffset = 36;
    internal const int PositionCountOffset = 40;
    internal const int ChecksumOffset = 44;

    public byte Version;
    public FrameType Type;
    public FrameFlags Flags;
    public ushort HeaderLength;
    public int PayloadLength;
    public ulong SessionId;
    public long Epoch;
    public int Step;
    public int FirstPosition;
    public int PositionCount;
    public uint Checksum;

    public FrameHeader(FrameType type, ulong sessionId, long epoch)
    {
        Version = CurrentVersion;
        Type = type;
        HeaderLength = Size;
        SessionId = sessionId;
        Epoch = epoch;
    }

    /// <summary>Hidden-state encoding (bits 0..3 of the flags).</summary>
    public HiddenEncoding Encoding
    {
        readonly get => (HiddenEncoding)((ushort)Flags & HiddenEncodingNames.EncodingMask);
        set => Flags = (FrameFlags)(((ushort)Flags & ~HiddenEncodingNames.EncodingMask) | (ushort)value);
    }

    public readonly bool Zstd => (Flags & FrameFlags.Zstd) != 0;

    /// <summary>Writes the header with a zero checksum; <see cref="FrameWriter"/> fills it in once the payload is known.</summary>
    public readonly void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination[MagicOffset..], Magic);
        destination[VersionOffset] = Version;
        destination[TypeOffset] = (byte)Type;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[FlagsOffset..], (ushort)Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[HeaderLengthOffset..], Size);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(HeaderLengthOffset + 2)..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(destination[PayloadLengthOffset..], PayloadLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[SessionOffset..], SessionId);
        BinaryPrimitives.WriteInt64LittleEndian(destination[EpochOffset..], Epoch);
        BinaryPrimitives.WriteInt32LittleEndian(destination[StepOffset..], Step);
        BinaryPrimitives.WriteInt32LittleEndian(destination[FirstPositionOffset..], FirstPosition);
        BinaryPrimitives.WriteInt32LittleEndian(destination[PositionCountOffset..], PositionCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[ChecksumOffset..], 0);
    }

    /// <summary>Reads a version-1 header (the caller has checked magic and version).</summary>
    internal static FrameHeader ReadFrom(ReadOnlySpan<byte> source) => new()
    {
        Version = source[VersionOffset],
        Type = (FrameType)source[TypeOffset],
        Flags = (FrameFlags)BinaryPrimitives.ReadUInt16LittleEndian(source[FlagsOffset..]),
        HeaderLength = BinaryPrimitives.ReadUInt16LittleEndian(source[HeaderLengthOffset..]),
        PayloadLength = BinaryPrimitives.ReadInt32LittleEndian(source[PayloadLengthOffset..]),
        SessionId = BinaryPrimitives.ReadUInt64LittleEndian(source[SessionOffset..]),
        Epoch = BinaryPrimitives.ReadInt64LittleEndian(source[EpochOffset..]),
        Step = BinaryPrimitives.ReadInt32LittleEndian(source[StepOffset..]),
        FirstPosition = BinaryPrimitives.ReadInt32LittleEndian(source[FirstPositionOffset..]),
        PositionCount = BinaryPrimitives.ReadInt32LittleEndian(source[PositionCountOffset..]),
        Checksum = BinaryPrimitives.ReadUInt32LittleEndian(source[ChecksumOffset..]),
    };

    public override readonly string ToString() =>
        $"{Type} v{Version} session {SessionId:x16} epoch {Epoch} step {Step} positions {FirstPosition}+{PositionCount} payload {PayloadLength} B";
}
