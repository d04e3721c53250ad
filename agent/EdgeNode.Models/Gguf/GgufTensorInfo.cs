namespace EdgeNode.Models.Gguf;

/// <summary>One tensor's entry in a GGUF header.</summary>
/// <param name="Name">llama.cpp's tensor name, e.g. blk.0.attn_q.weight.</param>
/// <param name="Dimensions">ggml order: Dimensions[0] is the row length (the innermost, contiguous axis).</param>
/// <param name="Type">Storage type.</param>
/// <param name="Offset">Offset of the data from the start of the tensor data section.</param>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgufTensorType Type, long Offset)
{
    public long ElementCount => Dimensions.Aggregate(1L, (product, d) => product * d);

    public long ByteCount => GgufBlockQuantizer.ByteCount(Type, ElementCount);
}
