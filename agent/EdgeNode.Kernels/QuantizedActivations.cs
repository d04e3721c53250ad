using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    // Per chunk: 32 even + 32 odd int8 values, 8 int32 corrections, 8 float scales; where each part starts, in bytes.
    internal const int OddOffset = ChunkInputs / 2;
    internal const int CorrectionsOffset = ChunkInputs;
    internal const int ScalesOffset = CorrectionsOffset + LanesPerChunk * sizeof(int);
    internal const int ChunkBytes = ScalesOffset + LanesPerChunk * sizeof(float);

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
        // One lane's 8 quantized values, narrowed to bytes, reordered even-indexed first: [0,2,4,6,1,3,5,7].
        var evenThenOdd = Vector128.Create((sbyte)0, 2, 4, 6, 1, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        fixed (float* values = row)
        {
            for (var blockStart = 0; blockStart < row.Length; blockStart += blockSize)
            {
                var largest = Vector128<float>.Zero;
                for (var i = 0; i < blockSize; i += 4)
                    largest = Vector128.Max(largest, Vector128.Abs(Vector128.Load(values + blockStart + i)));
                var scale = MathF.Max(MathF.Max(largest[0], largest[1]), MathF.Max(largest[2], largest[3])) / 127f;
                var inverse = Vector128.Create(scale == 0 ? 0 : 1 / scale);
                for (var input = blockStart; input < blockStart + blockSize; input += 8)
                {
                    var chunk = Chunk(rowIndex, input / ChunkInputs);
                    var lane = input % ChunkInputs / 8;
                    // Round to nearest even, as ONNX Runtime's int8 path does; |code| <= 127, so narrowing keeps it.
                    var low = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(values + input) * inverse));
                    var high = Vector128.ConvertToInt32(Vector128.Round(Vector128.Load(values + input + 4) * inverse));
                    var codes = Vector128.Shuffle(Vector128.Narrow(Vector128.Narrow(low, high), Vector128<short>.Zero), evenThenOdd).AsInt32();
                    *(int*)(chunk + lane * 4) = codes.GetElement(0);
                    *(int*)(chunk + OddOffset + lane * 4) = codes.GetElement(1);
                    ((int*)(chunk + CorrectionsOffset))[lane] = -8 * Vector128.Sum(low + high);
                    ((float*)(chunk + ScalesOffset))[lane] = scale;
                }
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
