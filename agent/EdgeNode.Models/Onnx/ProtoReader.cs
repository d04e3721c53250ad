namespace EdgeNode.Models.Onnx;

/// <summary>Reads protobuf wire format; malformed input is an <see cref="InvalidDataException"/>, never a read past the end.</summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;

    public int Position { get; private set; }

    public readonly bool End => Position >= _bytes.Length;

    public (int Field, int Wire) ReadTag()
    {
        var tag = ReadVarint();
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (Position >= _bytes.Length)
                throw new InvalidDataException("ONNX model ends inside a varint");
            var b = _bytes[Position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw new InvalidDataException("ONNX model has a varint longer than 10 bytes");
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_bytes.Length - Position))
            throw new InvalidDataException($"ONNX model has a field of {length} bytes with {_bytes.Length - Position} left");
        var value = _bytes.Slice(Position, (int)length);
        Position += (int)length;
        return value;
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case ProtoWire.Varint:
                ReadVarint();
                break;
            case ProtoWire.Fixed64:
                Advance(8);
                break;
            case ProtoWire.LengthDelimited:
                ReadBytes();
                break;
            case ProtoWire.Fixed32:
                Advance(4);
                break;
            default:
                throw new InvalidDataException($"ONNX model has a field of wire type {wire}, which ONNX does not use");
        }
    }

    private void Advance(int count)
    {
        if (count > _bytes.Length - Position)
            throw new InvalidDataException("ONNX model ends inside a fixed-size field");
        Position += count;
    }
}
