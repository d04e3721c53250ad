namespace EdgeNode.Models.Safetensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The checkpoint's name for it, e.g. model.layers.0.self_attn.q_proj.weight.</param>
/// <param name="DType">The header's dtype string (F32, F16, BF16, I64, ...).</param>
/// <param name="Shape">Row-major shape, outermost first.</param>
/// <param name="DataBegin">Start of the data, relative to the end of the header.</param>
/// <param name="DataEnd">End of the data (exclusive), relative to the end of the header.</param>
public sealed record SafetensorsTensorInfo(string Name, string DType, IReadOnlyList<long> Shape, long DataBegin, long DataEnd)
{
    public long ElementCount => Shape.Aggregate(1L, (product, d) => product * d);

    public long ByteCount => DataEnd - DataBegin;

    public string DescribeShape() => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Bytes per element of a dtype, or 0 for one this project does not know.</summary>
    public static int ElementBytes(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => 0,
    };
}
