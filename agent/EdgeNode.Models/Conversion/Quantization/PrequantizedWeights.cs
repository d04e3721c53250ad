namespace EdgeNode.Models.Conversion.Quantization;

/// <summary>
/// Matrices that arrived already block-quantized (e.g. Q4_0 / Q8_0 in a GGUF file), each with the float values it
/// dequantizes to. When a projection is written, every run of its rows that is one of these matrices, in the
/// quantizer's format, takes the blocks as they are instead of quantizing the floats a second time. Matching is by
/// value, so the graph's weights are the imported ones by construction, whatever the builder concatenates or pads.
/// </summary>
public sealed class PrequantizedWeights
{
    private readonly List<(float[] Values, QuantizedMatrix Blocks)> _matrices = [];

    public int Count => _matrices.Count;

    /// <summary>Forgets every matrix added after the first <paramref name="count"/> (a layer read one at a time, once built).</summary>
    internal void TruncateTo(int count)
    {
        if (count < _matrices.Count)
            _matrices.RemoveRange(count, _matrices.Count - count);
    }

    /// <param name="values">The dequantized [N][K] values, exactly as the float weights hold them.</param>
    public void Add(float[] values, QuantizedMatrix blocks)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(blocks);
        if (values.Length != (long)blocks.N * blocks.K)
            throw new ArgumentException($"{values.Length} values do not fill a {blocks.N}x{blocks.K} matrix", nameof(values));
        _matrices.Add((values, blocks));
    }

    /// <summary>Rows of [n][k] <paramref name="weight"/> that came from here and match the quantizer's format.</summary>
    public int CoveredRows(BlockQuantizer quantizer, ReadOnlySpan<float> weight, int n, int k)
    {
        var covered = 0;
        for (var row = 0; row < n;)
        {
            var match = Find(quantizer, weight[(row * k)..], k);
            covered += match?.N ?? 0;
            row += match?.N ?? 1;
        }
        return covered;
    }

    /// <summary>
    /// <paramref name="weight"/> in MatMulNBits layout: the stored blocks for the rows that match, the quantizer for
    /// the rest. Quantization is per row, so this is the quantizer's output wherever nothing matched.
    /// </summary>
    public QuantizedMatrix Quantize(BlockQuantizer quantizer, ReadOnlySpan<float> weight, int n, int k)
    {
        ArgumentNullException.ThrowIfNull(quantizer);
        var parts = new List<QuantizedMatrix>();
        var pending = 0;
        for (var row = 0; row < n;)
        {
            var match = Find(quantizer, weight[(row * k)..], k);
            if (match is null)
            {
                row++;
                continue;
            }
            if (pending < row)
                parts.Add(quantizer.Quantize(weight[(pending * k)..(row * k)], row - pending, k));
            parts.Add(quantizer.Asymmetric ? WithExplicitZeroPoints(match) : match);
            row += match.N;
            pending = row;
        }
        if (pending < n)
            parts.Add(quantizer.Quantize(weight[(pending * k)..(n * k)], n - pending, k));
        return parts.Count == 1 ? parts[0] : QuantizedMatrix.ConcatRows(parts);
    }

    private QuantizedMatrix? Find(BlockQuantizer quantizer, ReadOnlySpan<float> rows, int k)
    {
        foreach (var (values, blocks) in _matrices)
        {
            if (blocks.K == k && blocks.Bits == quantizer.Bits && blocks.BlockSize == quantizer.BlockSize
                && values.Length <= rows.Length && rows.StartsWith(values))
                return blocks;
        }
        return null;
    }

    /// <summary>The same blocks with the kernel's default zero point written out, to stack with asymmetric ones.</summary>
    private static QuantizedMatrix WithExplicitZeroPoints(QuantizedMatrix blocks)
    {
        if (blocks.ZeroPoints is not null)
            return blocks;
        var perRow = blocks.ZeroPointBytes;
        var zeroPoints = new byte[(long)blocks.N * perRow];
        var zero = 1 << (blocks.Bits - 1);
        for (var row = 0; row < blocks.N; row++)
        {
            for (var b = 0; b < blocks.BlocksPerRow; b++)
                QuantizedMatrix.StoreCode(zeroPoints.AsSpan(row * perRow, perRow), b, zero, blocks.Bits);
        }
        return blocks with { ZeroPoints = zeroPoints };
    }
}
