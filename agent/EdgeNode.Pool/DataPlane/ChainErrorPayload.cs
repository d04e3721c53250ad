using System.Buffers.Binary;
using System.Text;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// The payload of an <see cref="FrameType.Error"/> frame: code (uint16), length of the node id (uint16), the node id
/// (UTF-8: the node the error is about, or the reporter), then the reason (UTF-8, the rest of the payload).
/// </summary>
public readonly record struct ChainErrorPayload(ChainErrorCode Code, string NodeId, string Message)
{
    public int Length => 4 + Encoding.UTF8.GetByteCount(NodeId) + Encoding.UTF8.GetByteCount(Message);

    public int WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)Code);
        var nodeBytes = Encoding.UTF8.GetBytes(NodeId, destination[4..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], (ushort)nodeBytes);
        return 4 + nodeBytes + Encoding.UTF8.GetBytes(Message, destination[(4 + nodeBytes)..]);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public static ChainErrorPayload Read(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 4)
            throw new InvalidDataException($"an error payload needs at least 4 bytes, got {payload.Length}");
        var code = (ChainErrorCode)BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var nodeLength = BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]);
        if (4 + nodeLength > payload.Length)
            throw new InvalidDataException($"an error payload names a node of {nodeLength} bytes but has {payload.Length - 4}");
        return new ChainErrorPayload(code, Encoding.UTF8.GetString(payload.Slice(4, nodeLength)), Encoding.UTF8.GetString(payload[(4 + nodeLength)..]));
    }

    public override string ToString() => NodeId.Length > 0 ? $"node {NodeId}: {Message}" : Message;
}
