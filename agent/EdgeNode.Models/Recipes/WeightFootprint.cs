using EdgeNode.Models.Conversion;
using EdgeNode.Models.Conversion.Quantization;

namespace EdgeNode.Models.Recipes;

/// <summary>
/// The bytes a converted model's weights take, part by part, as the slice builder stores them: the embedding
/// table and norms in float32, every projection (the classifier too) at the chosen precision, with one float32
/// scale per block and, when asymmetric, packed zero points. Heads narrower than the attention kernel takes are
/// stored padded (<see cref="AttentionLayout"/>), and the padding costs bytes like any weight.
/// </summary>
public sealed class WeightFootprint
{
    private readonly RecipeShape _shape;
    private readonly WeightPrecision _precision;
    private readonly int _blockSize;
    private readonly bool _asymmetric;

    public WeightFootprint(RecipeShape shape, WeightPrecision precision, int blockSize, bool asymmetric)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (precision != WeightPrecision.Fp32 && blockSize <= 0)
            throw new ArgumentException($"{precision.ToName()} needs a block size, got {blockSize}", nameof(blockSize));
        _shape = shape;
        _precision = precision;
        _blockSize = blockSize;
        _asymmetric = asymmetric;
    }

    public static WeightFootprint Of(RecipeShape shape, RecipeVariant variant)
    {
        ArgumentNullException.ThrowIfNull(variant);
        return new WeightFootprint(shape, variant.WeightPrecision, variant.BlockSize, variant.Asymmetric);
    }

    /// <summary>The token embedding table (a float32 Gather source on the first node).</summary>
    public long EmbeddingBytes => 4L * _shape.VocabSize * _shape.Dim;

    /// <summary>Final norm and classifier. A tied classifier is a second copy here: the last node cannot read the first node's table.</summary>
    public long HeadBytes => 4L * _shape.Dim + MatrixBytes(_shape.VocabSize, _shape.Dim);

    public long LayerBytes
    {
        get
        {
            var s = _shape;
            var headSize = StoredHeadSize;
            var queryWidth = s.Heads * headSize;
            var kvWidth = s.KvHeads * headSize;
            var projections = MatrixBytes(queryWidth, s.Dim) + 2 * MatrixBytes(kvWidth, s.Dim) + MatrixBytes(s.Dim, queryWidth)
                + 2 * MatrixBytes(s.HiddenDim, s.Dim) + MatrixBytes(s.Dim, s.HiddenDim);
            var vectors = 2L * s.Dim + (s.AttentionBias ? queryWidth + 2L * kvWidth : 0) + (s.QkNorm ? 2L * s.HeadSize : 0);
            return projections + 4 * vectors;
        }
    }

    /// <summary>The head size the graphs store: the real one rounded up to the attention kernel's multiple of 16.</summary>
    public int StoredHeadSize => (_shape.HeadSize + 15) / 16 * 16;

    public long TotalBytes => EmbeddingBytes + _shape.Layers * LayerBytes + HeadBytes;

    /// <summary>An n×k projection (n outputs, k inputs).</summary>
    public long MatrixBytes(int n, int k)
    {
        if (_precision == WeightPrecision.Fp32)
            return 4L * n * k;
        var bits = _precision.Bits();
        var blocks = (k + _blockSize - 1) / _blockSize;
        long perRow = blocks * (_blockSize * bits / 8) + 4L * blocks;
        if (_asymmetric)
            perRow += QuantizedMatrix.ZeroPointBytesPerRow(blocks, bits);
        return n * perRow;
    }
}
