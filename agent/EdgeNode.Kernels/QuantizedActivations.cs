using System.Runtime.InteropServices;

namespace EdgeNode.Kernels;

/// <summary>
/// Rows of activations quantized to int8 per weight block (scale = the block's largest magnitude ÷ 127, rounded to
/// nearest even, as ONNX Runtime's int8-activation path does) and laid out for the dot-product instructions. Per row and
/// per chunk of 64 inputs: the 32 even-indexed values, the 32 odd-indexed ones (the low and high nibbles of the chunk's 32
/// weight bytes), then per lane of 8 inputs the zero-point correction −8 × Σ of its values and the block's scale.
/// </summary>
/// <remarks>
/// One instance per thread (<see cref="ForCurrentThread"/>): a run quantizes on its own thread and the workers of that run
/// only read, so two runs on two threads never share one, and a decode step allocates nothing once the buffer has grown.
/// </remarks>
public sealed unsafe class QuantizedActivations
{
    internal const int ChunkInputs = 64;
    internal const int LanesPerChunk = ChunkInputs / 8;
    // Per chunk: 32 even + 32 odd int8 values, 8 int32 corrections, 8 float scales.
    internal const int ChunkBytes = ChunkInputs + LanesPerChunk * 4 * 2;

    [ThreadStatic] private static QuantizedActivations? t_current;

    private byte* _buffer;
    private long _capacity;

    private QuantizedActivations() { }

    /// <summary>This thread's buffer (kept for the thread's life; it only grows).</summary>
    public static QuantizedActivations ForCurrentThread() => t_current ??= new QuantizedActivations();

    public int RowCount { get; private set; }
    public int Columns { get; private set; }

    /// <summary>The rows last quantized, as the kernel reads them (valid until the next <see cref="Quantize"/> on this thread).</summary>
    public QuantizedRows Rows => new(_buffer, RowCount, Columns);

    private byte* Chunk(int row, int chunk) => Rows.Chunk(row, chunk);

    /// <summary>Quantizes <paramref name="rows"/> rows of <paramref name="columns"/> floats for weights of <paramref name="blockSize"/>.</summary>
    public void Quantize(ReadOnlySpan<float> values, int rows, int columns, int blockSize)
    {
        if (!BlockQ4MatMul.Supports(columns, blockSize, out var reason))
            throw new ArgumentException(reason);
        if (values.Length < (long)rows * columns)
            throw new ArgumentException($"{values.Length} values cannot fill {rows} rows of {columns}", nameof(values));
        var needed = (long)rows * (columns / ChunkInputs) * ChunkBytes;
        if (needed > _capacity)
        {
            NativeMemory.AlignedFree(_buffer);
            _buffer = null;
            _capacity = 0;
            _buffer = (byte*)NativeMemory.AlignedAlloc((nuint)needed, 64);
            _capacity = needed;
        }
        RowCount = rows;
        Columns = columns;
        for (var row = 0; row < rows; row++)
            QuantizeRow(values.Slice(row * columns, columns), row, blockSize);
    }

    private void QuantizeRow(ReadOnlySpan<float> row, int rowIndex, int blockSize)
    {
        for (var blockStart = 0; blockStart < row.Length; blockStart += blockSize)
        {
            var block = row.Slice(blockStart, blockSize);
            var largest = 0f;
            foreach (var value in block)
                largest = MathF.Max(largest, MathF.Abs(value));
            var scale = largest / 127f;
            var inverse = scale == 0 ? 0 : 1 / scale;
            for (var i = 0; i < blockSize; i++)
            {
                var input = blockStart + i;
                var chunk = Chunk(rowIndex, input / ChunkInputs);
                var inChunk = input % ChunkInputs;
                var code = (int)MathF.Round(block[i] * inverse, MidpointRounding.ToEven);
                ((sbyte*)chunk)[(inChunk & 1) * 32 + (inChunk >> 1)] = (sbyte)code;
                var lane = inChunk / 8;
                var corrections = (int*)(chunk + ChunkInputs);
                if (inChunk % 8 == 0)
                {
                    corrections[lane] = 0;
                    ((float*)(chunk + ChunkInputs + LanesPerChunk * 4))[lane] = scale;
                }
                corrections[lane] -= 8 * code;
            }
        }
    }
}

/// <summary>A view of quantized activation rows that the kernel's workers can be handed through native code.</summary>
public readonly unsafe struct QuantizedRows(byte* buffer, int count, int columns)
{
    public int Count { get; } = count;
    public int Columns { get; } = columns;
    internal int ChunksPerRow => Columns / QuantizedActivations.ChunkInputs;

    internal byte* Chunk(int row, int chunk) => buffer + ((long)row * ChunksPerRow + chunk) * QuantizedActivations.ChunkBytes;
}
