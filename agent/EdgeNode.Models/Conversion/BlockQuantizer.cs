namespace EdgeNode.Models.Conversion;

/// <summary>
/// Round-to-nearest symmetric block quantization into the layout of com.microsoft MatMulNBits:
/// B is [N][k_blocks][block_size * bits / 8] bytes, scales are [N][k_blocks] floats, and with no
/// zero_points input the kernel subtracts 2^(bits-1). A row whose length K is not a multiple of the
/// block size is padded with zeros in its last block (the kernel reads K, not the padding).
/// </summary>
public sealed class BlockQuantizer
{
    public BlockQuantizer(int bits, int blockSize)
    {
        if (bits is not (4 or 8))
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "MatMulNBits weights here are 4 or 8 bits");
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "block size must be a power of two >= 16 (e.g. 32, 64, 128)");
        Bits = bits;
        BlockSize = blockSize;
    }

    public int Bits { get; }
    public int BlockSize { get; }

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
        var qmax = (1 << (Bits - 1)) - 1;      // 7 or 127
        var zero = 1 << (Bits - 1);            // 8 or 128: MatMulNBits' default zero point
        for (var row = 0; row < n; row++)
        {
            var src = weights.Slice(row * k, k);
            for (var b = 0; b < blocks; b++)
            {
                var start = b * BlockSize;
                var len = Math.Min(BlockSize, k - start);
                var block = src.Slice(start, len);
                // Scale from the value of largest magnitude, keeping its sign, so that value maps to
                // -2^(bits-1) exactly and the positive side gets the one code less: the same trick
                // that makes symmetric 4-bit use all 16 codes.
                float signedMax = 0;
                foreach (var v in block)
                {
                    if (MathF.Abs(v) > MathF.Abs(signedMax))
                        signedMax = v;
                }
                var scale = signedMax / -(qmax + 1);
                var inverse = scale == 0 ? 0 : 1f / scale;
                scales[(long)row * blocks + b] = scale;
                var blob = packed.AsSpan((int)(((long)row * blocks + b) * BlobBytes), BlobBytes);
                for (var i = 0; i < len; i++)
                {
                    var q = (int)MathF.Round(block[i] * inverse, MidpointRounding.AwayFromZero);
                    q = Math.Clamp(q, -(qmax + 1), qmax) + zero;
                    Store(blob, i, q);
                }
                for (var i = len; i < BlockSize; i++)
                    Store(blob, i, zero);
            }
        }
        return new QuantizedMatrix(n, k, Bits, BlockSize, packed, scales);
    }

    private void Store(Span<byte> blob, int index, int code)
    {
        if (Bits == 8)
        {
            blob[index] = (byte)code;
            return;
        }
        // 4 bits: element 2i in the low nibble, 2i+1 in the high nibble.
        ref var slot = ref blob[index >> 1];
        slot = (index & 1) == 0 ? (byte)((slot & 0xF0) | code) : (byte)((slot & 0x0F) | (code << 4));
    }
}

/// <summary>A matrix in MatMulNBits layout, with the numbers needed to dequantize it for checks.</summary>
public sealed record QuantizedMatrix(int N, int K, int Bits, int BlockSize, byte[] Packed, float[] Scales)
{
    public int BlocksPerRow => (K + BlockSize - 1) / BlockSize;

    public float Dequantize(int row, int col)
    {
        var block = col / BlockSize;
        var within = col % BlockSize;
        var blobBytes = BlockSize * Bits / 8;
        var blobStart = ((long)row * BlocksPerRow + block) * blobBytes;
        int code = Bits == 8
            ? Packed[blobStart + within]
            : (within & 1) == 0 ? Packed[blobStart + (within >> 1)] & 0x0F : Packed[blobStart + (within >> 1)] >> 4;
        return (code - (1 << (Bits - 1))) * Scales[(long)row * BlocksPerRow + block];
    }
}
