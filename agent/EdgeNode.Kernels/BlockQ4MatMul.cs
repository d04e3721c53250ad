using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeNode.Kernels;

/// <summary>
/// y = a · Wᵀ for 4-bit block-quantized W (<see cref="BlockQ4Weights"/>) and int8-quantized a
/// (<see cref="QuantizedActivations"/>): the matrix-vector work of a decode step, which on an edge board is bound by how
/// fast one core streams the weights.
/// </summary>
/// <remarks>
/// Four weight rows at a time share each chunk of activations. Per chunk of 64 inputs and row: one 32-byte load, two
/// masks for the nibbles, two u8×s8 dot-product instructions (AVX-VNNI vpdpbusd; on arm64 SDOT over the same bytes,
/// codes 0..15 being valid signed bytes), the zero point as a precomputed per-lane correction, one convert and one fused
/// multiply-add with the product of the two scales. The x64 path asks for each row's bytes 10 KB ahead: with four row
/// streams and a scale stream the hardware prefetcher alone left one core at ~60 % of its read bandwidth (docs/kernels.md). Every row is computed by one thread in one fixed order, so the result does not depend on the thread
/// count or on how a model is cut into slices.
/// </remarks>
public static unsafe class BlockQ4MatMul
{
    /// <summary>
    /// How far ahead of the row being read the x64 path asks for weights, in bytes of codes (rows lie one after another, so
    /// this reaches into the next rows). TinyLlama-shape Q4_0 decode: 5 KB 19.8–20.0 / 31.6–33.5 tok/s on 1 / 2 threads,
    /// 8 KB 18.7–19.1 / 30.3–31.4, 10 KB 20.6–21.0 / 35.3–35.5, 14 KB 21.1–21.2 / 33.8–35.4.
    /// </summary>
    private const int PrefetchBytes = 10240;

    // Where a chunk of quantized activations keeps its odd-indexed values, lane corrections and lane scales.
    private const int Odd = QuantizedActivations.OddOffset;
    private const int Corrections = QuantizedActivations.CorrectionsOffset;
    private const int ActivationScales = QuantizedActivations.ScalesOffset;

    /// <summary>Rows one parallel work item computes: long enough runs that a thread's prefetches land in its own rows.</summary>
    public const int RowsPerWorkItem = 64;

    /// <summary>The instruction set this process runs the kernel with, or null where it has none and the stock kernel serves.</summary>
    public static string? InstructionSet { get; } =
        Avx2.IsSupported && Fma.IsSupported && AvxVnni.IsSupported ? "avx-vnni"
        : AdvSimd.Arm64.IsSupported && Dp.IsSupported ? "neon-dotprod"
        : null;

    public static bool IsAccelerated => InstructionSet is not null;

    /// <summary>Whether K and the block size are ones this kernel computes; <paramref name="reason"/> says why not.</summary>
    public static bool Supports(int columns, int blockSize, out string reason)
    {
        if (blockSize is not (32 or 64 or 128 or 256))
            reason = $"block size {blockSize} is not 32, 64, 128 or 256";
        else if (columns <= 0 || columns % blockSize != 0 || columns % QuantizedActivations.ChunkInputs != 0)
            reason = $"K = {columns} is not a positive multiple of the block size {blockSize} and of 64";
        else
        {
            reason = "";
            return true;
        }
        return false;
    }

    /// <summary>
    /// Output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) for every activation row: y is [rows of a][N].
    /// </summary>
    public static void Multiply(in BlockQ4Weights weights, QuantizedRows activations, float* output, int firstRow, int endRow)
    {
        if (activations.Columns != weights.Columns)
            throw new ArgumentException($"activations have {activations.Columns} columns, the weights {weights.Columns}");
        if ((uint)firstRow > (uint)endRow || endRow > weights.Rows)
            throw new ArgumentOutOfRangeException(nameof(endRow), $"rows [{firstRow}, {endRow}) of {weights.Rows}");
        if (AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported)
        {
            if (weights.BlockSize == 32)
                MultiplyX64<TwoBlocksPerChunk>(weights, activations, output, firstRow, endRow);
            else
                MultiplyX64<OneBlockPerChunk>(weights, activations, output, firstRow, endRow);
        }
        else if (AdvSimd.Arm64.IsSupported && Dp.IsSupported)
            MultiplyArm64(weights, activations, output, firstRow, endRow);
        else
            MultiplyPortable(weights, activations, output, firstRow, endRow);
    }

    private static void MultiplyX64<TScales>(in BlockQ4Weights w, QuantizedRows a, float* output, int firstRow, int endRow)
        where TScales : struct, IChunkScales
    {
        var row = firstRow;
        for (; row + 4 <= endRow; row += 4)
        {
            if (a.Count > 1)
            {
                FourRowsManyX64<TScales>(w, a, row, output);
                continue;
            }
            for (var m = 0; m < a.Count; m++)
            {
                var (y0, y1, y2, y3) = FourRowsX64<TScales>(w, a, m, row);
                var y = output + (long)m * w.Rows + row;
                y[0] = y0;
                y[1] = y1;
                y[2] = y2;
                y[3] = y3;
            }
        }
        for (; row < endRow; row++)
        {
            for (var m = 0; m < a.Count; m++)
                output[(long)m * w.Rows + row] = OneRowX64<TScales>(w, a, m, row);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float, float, float, float) FourRowsX64<TScales>(in BlockQ4Weights w, QuantizedRows a, int m, int row)
        where TScales : struct, IChunkScales
    {
        var rowBytes = w.CodeBytesPerRow;
        var blocks = w.BlocksPerRow;
        var c0 = w.RowCodes(row);
        var s0 = w.RowScales(row);
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        var chunks = a.ChunksPerRow;
        var prefetch = TScales.ScalesAhead(PrefetchBytes / 32, w.BlockSize);
        for (var chunk = 0; chunk < chunks; chunk++)
        {
            var offset = chunk * 32L;
            if ((chunk & 1) == 0)
            {
                Sse.Prefetch0(c0 + offset + PrefetchBytes);
                Sse.Prefetch0(c0 + rowBytes + offset + PrefetchBytes);
                Sse.Prefetch0(c0 + 2 * rowBytes + offset + PrefetchBytes);
                Sse.Prefetch0(c0 + 3 * rowBytes + offset + PrefetchBytes);
                if ((chunk & 7) == 0)
                {
                    var scaleAhead = TScales.FirstScale(chunk, w.BlockSize) + prefetch;
                    Sse.Prefetch0(s0 + scaleAhead);
                    Sse.Prefetch0(s0 + blocks + scaleAhead);
                    Sse.Prefetch0(s0 + 2 * blocks + scaleAhead);
                    Sse.Prefetch0(s0 + 3 * blocks + scaleAhead);
                }
            }
            var q = a.Chunk(m, chunk);
            var even = Avx.LoadVector256((sbyte*)q);
            var odd = Avx.LoadVector256((sbyte*)q + Odd);
            var correction = Avx.LoadVector256((int*)(q + Corrections));
            var activationScale = Avx.LoadVector256((float*)(q + ActivationScales));
            var scaleIndex = TScales.FirstScale(chunk, w.BlockSize);
            f0 = ChunkX64<TScales>(c0 + offset, s0 + scaleIndex, even, odd, correction, activationScale, mask, f0);
            f1 = ChunkX64<TScales>(c0 + rowBytes + offset, s0 + blocks + scaleIndex, even, odd, correction, activationScale, mask, f1);
            f2 = ChunkX64<TScales>(c0 + 2 * rowBytes + offset, s0 + 2 * blocks + scaleIndex, even, odd, correction, activationScale, mask, f2);
            f3 = ChunkX64<TScales>(c0 + 3 * rowBytes + offset, s0 + 3 * blocks + scaleIndex, even, odd, correction, activationScale, mask, f3);
        }
        return (Vector256.Sum(f0), Vector256.Sum(f1), Vector256.Sum(f2), Vector256.Sum(f3));
    }

    /// <summary>Activation rows one pass of <see cref="FourRowsManyX64"/> accumulates at once (4 KB of sums on the stack).</summary>
    private const int PromptRowsPerPass = 32;

    /// <summary>
    /// Four weight rows against many activation rows (a prompt): each chunk of the four rows is unpacked once and used by
    /// every activation row, so the per-row work is the two dot products and the scaling.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourRowsManyX64<TScales>(in BlockQ4Weights w, QuantizedRows a, int row, float* output)
        where TScales : struct, IChunkScales
    {
        var rowBytes = w.CodeBytesPerRow;
        var blocks = w.BlocksPerRow;
        var c0 = w.RowCodes(row);
        var s0 = w.RowScales(row);
        var mask = Vector256.Create((byte)0x0F);
        var sums = stackalloc Vector256<float>[PromptRowsPerPass * 4];
        for (var first = 0; first < a.Count; first += PromptRowsPerPass)
        {
            var count = Math.Min(PromptRowsPerPass, a.Count - first);
            new Span<Vector256<float>>(sums, count * 4).Clear();
            for (var chunk = 0; chunk < a.ChunksPerRow; chunk++)
            {
                var offset = chunk * 32L;
                var scaleIndex = TScales.FirstScale(chunk, w.BlockSize);
                var p0 = Avx.LoadVector256(c0 + offset);
                var p1 = Avx.LoadVector256(c0 + rowBytes + offset);
                var p2 = Avx.LoadVector256(c0 + 2 * rowBytes + offset);
                var p3 = Avx.LoadVector256(c0 + 3 * rowBytes + offset);
                var low0 = p0 & mask;
                var low1 = p1 & mask;
                var low2 = p2 & mask;
                var low3 = p3 & mask;
                var high0 = Avx2.ShiftRightLogical(p0.AsUInt16(), 4).AsByte() & mask;
                var high1 = Avx2.ShiftRightLogical(p1.AsUInt16(), 4).AsByte() & mask;
                var high2 = Avx2.ShiftRightLogical(p2.AsUInt16(), 4).AsByte() & mask;
                var high3 = Avx2.ShiftRightLogical(p3.AsUInt16(), 4).AsByte() & mask;
                var ws0 = TScales.LaneScales(s0 + scaleIndex);
                var ws1 = TScales.LaneScales(s0 + blocks + scaleIndex);
                var ws2 = TScales.LaneScales(s0 + 2 * blocks + scaleIndex);
                var ws3 = TScales.LaneScales(s0 + 3 * blocks + scaleIndex);
                for (var m = 0; m < count; m++)
                {
                    var q = a.Chunk(first + m, chunk);
                    var even = Avx.LoadVector256((sbyte*)q);
                    var odd = Avx.LoadVector256((sbyte*)q + Odd);
                    var correction = Avx.LoadVector256((int*)(q + Corrections));
                    var activationScale = Avx.LoadVector256((float*)(q + ActivationScales));
                    var s = sums + m * 4;
                    s[0] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(correction, low0, even), high0, odd)), ws0 * activationScale, s[0]);
                    s[1] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(correction, low1, even), high1, odd)), ws1 * activationScale, s[1]);
                    s[2] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(correction, low2, even), high2, odd)), ws2 * activationScale, s[2]);
                    s[3] = Fma.MultiplyAdd(Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(correction, low3, even), high3, odd)), ws3 * activationScale, s[3]);
                }
            }
            for (var m = 0; m < count; m++)
            {
                var y = output + (long)(first + m) * w.Rows + row;
                for (var r = 0; r < 4; r++)
                    y[r] = Vector256.Sum(sums[m * 4 + r]);
            }
        }
    }

    private static float OneRowX64<TScales>(in BlockQ4Weights w, QuantizedRows a, int m, int row)
        where TScales : struct, IChunkScales
    {
        var c0 = w.RowCodes(row);
        var s0 = w.RowScales(row);
        var mask = Vector256.Create((byte)0x0F);
        Vector256<float> f = default;
        for (var chunk = 0; chunk < a.ChunksPerRow; chunk++)
        {
            var q = a.Chunk(m, chunk);
            f = ChunkX64<TScales>(c0 + chunk * 32L, s0 + TScales.FirstScale(chunk, w.BlockSize),
                Avx.LoadVector256((sbyte*)q), Avx.LoadVector256((sbyte*)q + Odd), Avx.LoadVector256((int*)(q + Corrections)), Avx.LoadVector256((float*)(q + ActivationScales)), mask, f);
        }
        return Vector256.Sum(f);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ChunkX64<TScales>(byte* codes, float* scales, Vector256<sbyte> even, Vector256<sbyte> odd,
        Vector256<int> correction, Vector256<float> activationScale, Vector256<byte> mask, Vector256<float> sum)
        where TScales : struct, IChunkScales
    {
        var packed = Avx.LoadVector256(codes);
        var low = packed & mask;
        var high = Avx2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & mask;
        var dot = AvxVnni.MultiplyWideningAndAdd(correction, low, even);
        dot = AvxVnni.MultiplyWideningAndAdd(dot, high, odd);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(dot), TScales.LaneScales(scales) * activationScale, sum);
    }

    private static void MultiplyArm64(in BlockQ4Weights w, QuantizedRows a, float* output, int firstRow, int endRow)
    {
        var blockSize = w.BlockSize;
        var mask = Vector128.Create((byte)0x0F);
        for (var row = firstRow; row < endRow; row++)
        {
            var codes = w.RowCodes(row);
            var scales = w.RowScales(row);
            for (var m = 0; m < a.Count; m++)
            {
                Vector128<float> sum = default;
                for (var chunk = 0; chunk < a.ChunksPerRow; chunk++)
                {
                    var q = a.Chunk(m, chunk);
                    var input = chunk * QuantizedActivations.ChunkInputs;
                    // Two halves of 32 inputs: lanes 0-3 and 4-7, each within one block of 32 or more.
                    for (var half = 0; half < 2; half++)
                    {
                        var packed = AdvSimd.LoadVector128(codes + chunk * 32L + half * 16);
                        var low = AdvSimd.And(packed, mask).AsSByte();
                        var high = AdvSimd.ShiftRightLogical(packed, 4).AsSByte();
                        var dot = AdvSimd.LoadVector128((int*)(q + Corrections) + half * 4);
                        dot = Dp.DotProduct(dot, low, AdvSimd.LoadVector128((sbyte*)q + half * 16));
                        dot = Dp.DotProduct(dot, high, AdvSimd.LoadVector128((sbyte*)q + Odd + half * 16));
                        var scale = AdvSimd.LoadVector128((float*)(q + ActivationScales) + half * 4) * scales[(input + half * 32) / blockSize];
                        sum = AdvSimd.FusedMultiplyAdd(sum, AdvSimd.ConvertToSingle(dot), scale);
                    }
                }
                output[(long)m * w.Rows + row] = Vector128.Sum(sum);
            }
        }
    }

    /// <summary>The same arithmetic one value at a time: for processors with neither instruction set, and the tests' reference.</summary>
    internal static void MultiplyPortable(in BlockQ4Weights w, QuantizedRows a, float* output, int firstRow, int endRow)
    {
        for (var row = firstRow; row < endRow; row++)
        {
            var codes = w.RowCodes(row);
            var scales = w.RowScales(row);
            for (var m = 0; m < a.Count; m++)
            {
                var sum = 0f;
                for (var chunk = 0; chunk < a.ChunksPerRow; chunk++)
                {
                    var q = a.Chunk(m, chunk);
                    for (var lane = 0; lane < QuantizedActivations.LanesPerChunk; lane++)
                    {
                        var dot = ((int*)(q + Corrections))[lane];
                        for (var j = 0; j < 4; j++)
                        {
                            var packed = codes[chunk * 32L + lane * 4 + j];
                            dot += (packed & 0x0F) * ((sbyte*)q)[lane * 4 + j] + (packed >> 4) * ((sbyte*)q)[Odd + lane * 4 + j];
                        }
                        var input = chunk * QuantizedActivations.ChunkInputs + lane * 8;
                        sum += dot * (((float*)(q + ActivationScales))[lane] * scales[input / w.BlockSize]);
                    }
                }
                output[(long)m * w.Rows + row] = sum;
            }
        }
    }

    /// <summary>Where a chunk of 64 inputs finds its weight scales, by block size (a generic so each variant compiles on its own).</summary>
    private interface IChunkScales
    {
        static abstract long FirstScale(int chunk, int blockSize);
        static abstract long ScalesAhead(int chunksAhead, int blockSize);
        static abstract Vector256<float> LaneScales(float* scales);
    }

    /// <summary>Block 32: lanes 0-3 take the first block's scale, lanes 4-7 the second's.</summary>
    private readonly struct TwoBlocksPerChunk : IChunkScales
    {
        public static long FirstScale(int chunk, int blockSize) => chunk * 2L;
        public static long ScalesAhead(int chunksAhead, int blockSize) => chunksAhead * 2L;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> LaneScales(float* scales) =>
            Avx2.PermuteVar8x32(Vector256.CreateScalarUnsafe(*(double*)scales).AsSingle(), Vector256.Create(0, 0, 0, 0, 1, 1, 1, 1));
    }

    /// <summary>Block 64 or more: one scale for the whole chunk.</summary>
    private readonly struct OneBlockPerChunk : IChunkScales
    {
        public static long FirstScale(int chunk, int blockSize) => chunk * 64L / blockSize;
        public static long ScalesAhead(int chunksAhead, int blockSize) => chunksAhead * 64L / blockSize;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> LaneScales(float* scales) => Vector256.Create(*scales);
    }
}
