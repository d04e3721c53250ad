namespace EdgeNode.Kernels;

/// <summary>
/// A 4-bit block-quantized weight matrix where it already lies in memory, in ONNX Runtime's MatMulNBits layout with no zero
/// points: <see cref="Codes"/> is [N][K / BlockSize][BlockSize / 2] bytes, element 2i of a block in the low nibble and
/// 2i+1 in the high one, each code 0..15 standing for (code − 8) × the block's scale; <see cref="Scales"/> is
/// [N][K / BlockSize] floats. The kernel reads these bytes as they are: no repacked copy.
/// </summary>
public readonly unsafe struct BlockQ4Weights
{
    public BlockQ4Weights(byte* codes, float* scales, int rows, int columns, int blockSize)
    {
        if (!BlockQ4MatMul.Supports(columns, blockSize, out var reason))
            throw new ArgumentException(reason);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        Codes = codes;
        Scales = scales;
        Rows = rows;
        Columns = columns;
        BlockSize = blockSize;
    }

    public byte* Codes { get; }
    public float* Scales { get; }

    /// <summary>N: output features, one weight row each.</summary>
    public int Rows { get; }

    /// <summary>K: input features.</summary>
    public int Columns { get; }

    public int BlockSize { get; }

    public int BlocksPerRow => Columns / BlockSize;

    public long CodeBytesPerRow => Columns / 2;

    /// <summary>The first code byte of weight row <paramref name="row"/>.</summary>
    public byte* RowCodes(int row) => Codes + row * CodeBytesPerRow;

    /// <summary>The first scale of weight row <paramref name="row"/>.</summary>
    public float* RowScales(int row) => Scales + (long)row * BlocksPerRow;
}
