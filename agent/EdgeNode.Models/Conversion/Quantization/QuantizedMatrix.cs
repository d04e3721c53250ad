namespace EdgeNode.Models.Conversion.Quantization;

/// <summary>
/// A matrix in MatMulNBits layout: <see cref="Packed"/> is [N][k_blocks][block_size * bits / 8] bytes (4-bit codes two
/// per byte, element 2i in the low nibble), <see cref="Scales"/> is [N][k_blocks], and <see cref="ZeroPoints"/>, when
/// present, is [N][ceil(k_blocks * bits / 8)] bytes packed the same way as the codes; without it the kernel's zero point
/// is 2^(bits-1).
/// </summary>
public sealed record QuantizedMatrix(int N, int K, int Bits, int BlockSize, byte[] Packed, float[] Scales, byte[]? ZeroPoints = null)
{
    public int BlocksPerRow => (K + BlockSize - 1) / BlockSize;

    public int BlobBytes => BlockSize * Bits / 8;

    public int ZeroPointBytes => ZeroPointBytesPerRow(BlocksPerRow, Bits);

    public static int ZeroPointBytesPerRow(int blocksPerRow, int bits) => (blocksPerRow * bits + 7) / 8;

    public int ZeroPoint(int row, int block) =>
        ZeroPoints is null ? 1 << (Bits - 1) : LoadCode(ZeroPoints.AsSpan(row * ZeroPointBytes, ZeroPointBytes), block, Bits);

    public float Scale(int row, int block) => Scales[(long)row * BlocksPerRow + block];

    public float Dequantize(int row, int col)
    {
        var block = col / BlockSize;
        var blob = Packed.AsSpan((int)(((long)row * BlocksPerRow + block) * BlobBytes), BlobBytes);
        return (LoadCode(blob, col % BlockSize, Bits) - ZeroPoint(row, block)) * Scale(row, block);
    }

    /// <summary>All N x K values in row-major order, as the kernel sees them.</summary>
    public float[] Dequantize()
    {
        var values = new float[(long)N * K];
        for (var row = 0; row < N; row++)
        {
            for (var col = 0; col < K; col++)
                values[(long)row * K + col] = Dequantize(row, col);
        }
        return values;
    }

    /// <summary>Stacks matrices with the same K and block format along N (e.g. Q, K and V into one QKV projection).</summary>
    public static QuantizedMatrix ConcatRows(IReadOnlyList<QuantizedMatrix> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
            throw new ArgumentException("nothing to concatenate", nameof(parts));
        var first = parts[0];
        if (parts.Any(p => p.K != first.K || p.Bits != first.Bits || p.BlockSize != first.BlockSize || (p.ZeroPoints is null) != (first.ZeroPoints is null)))
            throw new ArgumentException("matrices differ in K, bits, block size or zero points and cannot be stacked", nameof(parts));
        return new QuantizedMatrix(parts.Sum(p => p.N), first.K, first.Bits, first.BlockSize,
            [.. parts.SelectMany(p => p.Packed)],
            [.. parts.SelectMany(p => p.Scales)],
            first.ZeroPoints is null ? null : [.. parts.SelectMany(p => p.ZeroPoints!)]);
    }

    /// <summary>Writes code number <paramref name="index"/> of a packed run: 4-bit codes two per byte, index 2i in the low nibble.</summary>
    internal static void StoreCode(Span<byte> run, int index, int code, int bits)
    {
        if (bits == 8)
        {
            run[index] = (byte)code;
            return;
        }
        ref var slot = ref run[index >> 1];
        slot = (index & 1) == 0 ? (byte)((slot & 0xF0) | code) : (byte)((slot & 0x0F) | (code << 4));
    }

    internal static int LoadCode(ReadOnlySpan<byte> run, int index, int bits) =>
        bits == 8 ? run[index] : (index & 1) == 0 ? run[index >> 1] & 0x0F : run[index >> 1] >> 4;
}
