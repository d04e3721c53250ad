namespace EdgeNode.Models.Conversion;

/// <summary>
/// How heads are laid out in the graphs and their KV caches. ONNX Runtime's GroupQueryAttention needs
/// a head size that is a multiple of 16; smaller heads (stories260K has 8) are padded with zero
/// dimensions: zero rows in Wq/Wk/Wv and zero columns in Wo leave every dot product and every output
/// unchanged, and the rotary tables rotate only the real pairs.
/// </summary>
public static class AttentionLayout
{
    private const int HeadSizeMultiple = 16;

    /// <summary>Head size as stored in the KV cache and seen by the attention kernel.</summary>
    public static int CacheHeadSize(LlamaConfig config) =>
        (config.HeadSize + HeadSizeMultiple - 1) / HeadSizeMultiple * HeadSizeMultiple;

    public static bool IsPadded(LlamaConfig config) => CacheHeadSize(config) != config.HeadSize;

    /// <summary>Rows [heads*headSize][inDim] → [heads*padded][inDim] with zero rows after each head's real ones.</summary>
    public static float[] PadHeadRows(float[] weight, int heads, int headSize, int padded, int inDim)
    {
        var result = new float[(long)heads * padded * inDim];
        for (var h = 0; h < heads; h++)
        {
            weight.AsSpan(h * headSize * inDim, headSize * inDim)
                .CopyTo(result.AsSpan(h * padded * inDim, headSize * inDim));
        }
        return result;
    }

    /// <summary>Columns [outDim][heads*headSize] → [outDim][heads*padded] with zero columns after each head's real ones.</summary>
    public static float[] PadHeadColumns(float[] weight, int outDim, int heads, int headSize, int padded)
    {
        var inReal = heads * headSize;
        var inPadded = heads * padded;
        var result = new float[(long)outDim * inPadded];
        for (var row = 0; row < outDim; row++)
        {
            for (var h = 0; h < heads; h++)
            {
                weight.AsSpan(row * inReal + h * headSize, headSize)
                    .CopyTo(result.AsSpan(row * inPadded + h * padded, headSize));
            }
        }
        return result;
    }
}
