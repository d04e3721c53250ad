namespace EdgeNode.Models;

/// <summary>Where one tensor (or one layer's slice of a stacked tensor) lies in a llama2.c checkpoint.</summary>
/// <param name="Name">llama2.c's name for it (wq, w2, freq_cis_real, ...).</param>
/// <param name="Layer">The layer, or -1 for a tensor that is not per layer.</param>
/// <param name="ByteOffset">Offset from the start of the file.</param>
/// <param name="FloatCount">Number of float32 values.</param>
public sealed record Llama2cTensorSpan(string Name, int Layer, long ByteOffset, long FloatCount)
{
    public long ByteCount => FloatCount * sizeof(float);

    public long EndOffset => ByteOffset + ByteCount;

    public string Describe() => Layer < 0 ? Name : $"{Name} (layer {Layer})";
}
