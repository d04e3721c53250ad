using System.Buffers.Binary;
using System.Text;

namespace EdgeNode.Models.Onnx;

/// <summary>
/// A growable byte buffer that encodes protobuf wire format. Nested messages are built in their own
/// buffer and appended with their length, which keeps the encoder single-pass without size precomputation;
/// ONNX graph metadata is small because every large tensor goes to the external data file.
/// </summary>
internal sealed class ProtoBuffer
{
    private byte[] _bytes;
    private int _length;

    public ProtoBuffer(int initialCapacity = 256) => _bytes = new byte[Math.Max(16, initialCapacity)];

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _bytes.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void WriteInt64(int field, long value)
    {
        WriteTag(field, ProtoWire.Varint);
        WriteVarint(unchecked((ulong)value));
    }

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, ProtoWire.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(Reserve(4), value);
        _length += 4;
    }

    public void WriteString(int field, string value)
    {
        WriteTag(field, ProtoWire.LengthDelimited);
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteVarint((ulong)byteCount);
        Encoding.UTF8.GetBytes(value, Reserve(byteCount));
        _length += byteCount;
    }

    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, ProtoWire.LengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(Reserve(value.Length));
        _length += value.Length;
    }

    public void WriteMessage(int field, ProtoBuffer message) => WriteBytes(field, message.WrittenSpan);

    /// <summary>Appends already-encoded fields (for example a message's fields collected elsewhere).</summary>
    public void WriteRaw(ReadOnlySpan<byte> encoded)
    {
        encoded.CopyTo(Reserve(encoded.Length));
        _length += encoded.Length;
    }

    public void CopyTo(Stream stream) => stream.Write(_bytes, 0, _length);

    private void WriteTag(int field, int wireType) => WriteVarint(((ulong)(uint)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        var span = Reserve(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        _length += i;
    }

    private Span<byte> Reserve(int count)
    {
        if (_bytes.Length - _length < count)
        {
            var needed = (long)_length + count;
            var next = Math.Max(needed, (long)_bytes.Length * 2);
            if (next > Array.MaxLength)
                next = needed <= Array.MaxLength ? Array.MaxLength : throw new InvalidOperationException("ONNX protobuf exceeds 2 GB; move more tensors to external data");
            Array.Resize(ref _bytes, (int)next);
        }
        return _bytes.AsSpan(_length, count);
    }
}
