using System.Buffers.Binary;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// The payload of a <see cref="FrameType.Verdict"/> frame, 16 bytes little-endian: int32 drafts accepted, int32 the
/// token after them (correction or bonus), int32 draft positions examined, float32 milliseconds (the last node's
/// decision time on the ring; the entry replaces it with the whole round's time on the chain for the client).
/// </summary>
public readonly record struct VerdictPayload(int Accepted, int Token, int Examined, float Milliseconds)
{
    public const int Size = 16;

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, Accepted);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], Token);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], Examined);
        BinaryPrimitives.WriteSingleLittleEndian(destination[12..], Milliseconds);
    }

    /// <exception cref="InvalidDataException">The payload is not 16 bytes.</exception>
    public static VerdictPayload Read(ReadOnlySpan<byte> payload) => payload.Length == Size
        ? new VerdictPayload(BinaryPrimitives.ReadInt32LittleEndian(payload), BinaryPrimitives.ReadInt32LittleEndian(payload[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[8..]), BinaryPrimitives.ReadSingleLittleEndian(payload[12..]))
        : throw new InvalidDataException($"a Verdict payload is {Size} bytes, got {payload.Length}");
}
