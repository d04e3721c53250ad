namespace EdgeNode.Models.Onnx;

/// <summary>The protobuf wire types ONNX models use (a field's tag is its number shifted left by 3, or'd with one of these).</summary>
internal static class ProtoWire
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;
}
