using EdgeNode.Models.Conversion.Quantization;

namespace EdgeNode.Models.Conversion;

/// <summary>
/// Round-to-nearest block quantization into the layout of com.microsoft MatMulNBits: B is
/// [N][k_blocks][block_size * bits / 8] bytes and scales are [N][k_blocks] floats. Symmetric blocks have no
/// zero_points input, so the kernel subtracts 2^(bits-1). Asymmetric blocks map each block's [min, max] onto the
/// full code range and carry a uint8 zero point per block, packed as MatMulNBits reads it: [N][ceil(k_blocks * bits
/// / 8)] bytes, two 4-bit zero points per byte (block 2j in the low nibble) or one 8-bit zero point per byte. A row
/// whose length K is not a multiple of the block size is padded in its last block with the code for zero (the kernel
/// reads K, not the padding).
/// </summary>
public sealed class BlockQuantizer
{
    public BlockQuantizer(int bits, int blockSize, bool asymmetric = false)
    {
        if (bits is not (4 or 8))
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "MatMulNBits weights here are 4 or 8 bits");
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "block size must be a power of two >= 16 (e.g. 32, 64, 128)");
        Bits = bits;
        BlockSize = blockSize;
        Asymmetric = asymmetric;
    }

    public int Bits { get; }
    public int BlockSize { get; }

    /// <summary>Per-block min/max with a zero point, instead of a scale around zero.</summary>
    public bool Asymmetric { get; }

    public int BlocksPerRow(int k) => (k + BlockSize - 1) / BlockSize;

    public int BlobBytes => BlockSize * Bits / 8;

    /// <summary>Quantizes a row-major [n][k] matrix (llama2.c's [out][in] layout, which is exactly MatMulNBits' B).</summary>
    public QuantizedMatrix Quantize(ReadOnlySpan<float> weights, int n, int k)
    {
        if (weights.Length != (long)n * k)
            throw new ArgumentException($"matrix has {weights.Length} values, expected {n}x{k}", nameof(weights));
        var blocks = BlocksPerRow(k);
        var packed = new byte[(long)n * blocks * BlobBytes];
        var scales = new float[(long)n * blocks];
        var zeroPointBytes = QuantizedMatrix.ZeroPointBytesPerRow(blocks, Bits);
        var zeroPoints = Asymmetric ? new byte[(long)n * zeroPointBytes] : null;
        for (var row = 0; row < n; row++)
        {
            var src = weights.Slice(row * k, k);
            for (var b = 0; b < blocks; b++)
            {
                var start = b * BlockSize;
                var len = Math.Min(BlockSize, k - start);
                var block = src.Slice(start, len);
                var (scale, zero) = Asymmetric ? AsymmetricParameters(block) : SymmetricParameters(block);
                scales[(long)row * blocks + b] = scale;
                if (zeroPoints is not null)
                    QuantizedMatrix.StoreCode(zeroPoints.AsSpan((int)((long)row * zeroPointBytes), zeroPointBytes), b, zero, Bits);
                var inverse = scale == 0 ? 0 : 1f / scale;
                var maxCode = (1 << Bits) - 1;
                var blob = packed.AsSpan((int)(((long)row * blocks + b) * BlobBytes), BlobBytes);
                for (var i = 0; i < len; i++)
                {
                    var q = (int)MathF.Round(block[i] * inverse, MidpointRounding.AwayFromZero) + zero;
                    QuantizedMatrix.StoreCode(blob, i, Math.Clamp(q, 0, maxCode), Bits);
                }
                for (var i = len; i < BlockSize; i++)
                    QuantizedMatrix.StoreCode(blob, i, zero, Bits);
            }
        }
        return new QuantizedMatrix(n, k, Bits, BlockSize, packed, scales, zeroPoints);
    }

    private (float Scale, int Zero) SymmetricParameters(ReadOnlySpan<float> block)
    {
        // Scale from the value of largest magnitude, keeping its sign, so that value maps to -2^(bits-1) exactly and
        // the positive side gets the one code less: the same trick that makes symmetric 4-bit use all 16 codes.
        float signedMax = 0;
        foreach (var v in block)
        {
            if (MathF.Abs(v) > MathF.Abs(signedMax))
                signedMax = v;
        }
        var half = 1 << (Bits - 1);
        return (signedMax / -half, half);
    }

    private (float Scale, int Zero) AsymmetricParameters(ReadOnlySpan<float> block)
    {
        // The range always holds 0 so that zero (and the padding) is exact and the zero point is a valid code;
        // rounding the zero point then moves the grid by at most half a step, which keeps every value within
        // scale/2 of its code.
        float min = 0, max = 0;
        foreach (var v in block)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }
        var maxCode = (1 << Bits) - 1;
        var scale = (max - min) / maxCode;
        if (scale == 0)
            return (0, 1 << (Bits - 1));
        var zero = Math.Clamp((int)MathF.Round(-min / scale, MidpointRounding.AwayFromZero), 0, maxCode);
        return (scale, zero);
    }
}
