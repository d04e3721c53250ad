using System.Buffers.Binary;

namespace EdgeNode.Models.Gguf;

/// <summary>
/// ggml's K-quant super-blocks of 256 values, as llama.cpp's Q4_K_M and Q6_K files hold them.
/// <para>
/// Q4_K (144 bytes): fp16 d, fp16 dmin, 12 bytes packing eight 6-bit sub-block scales and eight 6-bit mins, then 128
/// bytes of 4-bit quants. Value = d·scale[s]·q − dmin·min[s] over sub-blocks s of 32 values. Scales and mins 0..3 are
/// the low 6 bits of bytes 0..3 and 4..7; those of 4..7 keep their low 4 bits in bytes 8..11 (scale low nibble, min
/// high nibble) and their top 2 bits in the spare top bits of bytes 0..3 (scales) and 4..7 (mins). Each 64 values use
/// 32 quant bytes: the low nibbles hold the first 32 values (sub-block 2g), the high nibbles the next 32 (2g+1).
/// </para>
/// <para>
/// Q6_K (210 bytes): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), sixteen int8 sub-block scales, fp16 d.
/// Value = d·scale[s]·(q − 32) over sub-blocks of 16 values. Each half of 128 values uses 64 ql bytes and 32 qh bytes:
/// for l in 0..31, value l takes the low nibble of ql[l], value l+32 the low nibble of ql[l+32], value l+64 the high
/// nibble of ql[l], value l+96 the high nibble of ql[l+32]; their high bits are qh[l] bits 0-1, 2-3, 4-5, 6-7.
/// </para>
/// The quantizers here are plain min/max fits, not llama.cpp's search-based ones: their bytes are valid blocks but not
/// llama.cpp's bytes for the same input.
/// </summary>
public static class GgufKQuantBlocks
{
    public const int SuperBlockSize = 256;
    public const int Q4KBlockBytes = 2 + 2 + 12 + SuperBlockSize / 2;
    public const int Q6KBlockBytes = SuperBlockSize / 2 + SuperBlockSize / 4 + SuperBlockSize / 16 + 2;

    public static long RequireSuperBlocks(long elements)
    {
        if (elements % SuperBlockSize != 0)
            throw new ArgumentException($"{elements} values are not a whole number of {SuperBlockSize}-value super-blocks", nameof(elements));
        return elements / SuperBlockSize;
    }

    /// <summary>The 6-bit scale and min of sub-block <paramref name="subBlock"/> (0..7) from the 12 packed bytes.</summary>
    public static (int Scale, int Min) Q4KScaleMin(ReadOnlySpan<byte> packed, int subBlock)
    {
        if (subBlock < 4)
            return (packed[subBlock] & 63, packed[subBlock + 4] & 63);
        var scale = (packed[subBlock + 4] & 0x0F) | ((packed[subBlock - 4] >> 6) << 4);
        var min = (packed[subBlock + 4] >> 4) | ((packed[subBlock] >> 6) << 4);
        return (scale, min);
    }

    public static void DecodeQ4K(ReadOnlySpan<byte> block, Span<float> values)
    {
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
        var dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block[2..]);
        var packed = block.Slice(4, 12);
        var quants = block.Slice(16, SuperBlockSize / 2);
        for (var group = 0; group < 4; group++)
        {
            var (scaleLow, minLow) = Q4KScaleMin(packed, 2 * group);
            var (scaleHigh, minHigh) = Q4KScaleMin(packed, 2 * group + 1);
            float dLow = d * scaleLow, mLow = dmin * minLow, dHigh = d * scaleHigh, mHigh = dmin * minHigh;
            for (var l = 0; l < 32; l++)
            {
                var q = quants[group * 32 + l];
                values[group * 64 + l] = dLow * (q & 0x0F) - mLow;
                values[group * 64 + 32 + l] = dHigh * (q >> 4) - mHigh;
            }
        }
    }

    public static void DecodeQ6K(ReadOnlySpan<byte> block, Span<float> values)
    {
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block[(Q6KBlockBytes - 2)..]);
        for (var half = 0; half < 2; half++)
        {
            var ql = block.Slice(half * 64, 64);
            var qh = block.Slice(128 + half * 32, 32);
            var scales = block.Slice(192 + half * 8, 8);
            var output = values.Slice(half * 128, 128);
            for (var l = 0; l < 32; l++)
            {
                var sub = l / 16;
                var q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32;
                var q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                output[l] = d * (sbyte)scales[sub] * q1;
                output[l + 32] = d * (sbyte)scales[sub + 2] * q2;
                output[l + 64] = d * (sbyte)scales[sub + 4] * q3;
                output[l + 96] = d * (sbyte)scales[sub + 6] * q4;
            }
        }
    }

    public static void EncodeQ4K(ReadOnlySpan<float> values, Span<byte> block)
    {
        block[..Q4KBlockBytes].Clear();
        // Each sub-block spans [lowest, highest] with 16 levels; the minimum is never above 0 so that it can be stored as a
        // non-negative offset, as the format requires.
        Span<float> subScales = stackalloc float[8];
        Span<float> subMins = stackalloc float[8];
        for (var s = 0; s < 8; s++)
        {
            var sub = values.Slice(s * 32, 32);
            float lowest = 0f, highest = 0f;
            foreach (var v in sub)
            {
                lowest = MathF.Min(lowest, v);
                highest = MathF.Max(highest, v);
            }
            subScales[s] = (highest - lowest) / 15f;
            subMins[s] = -lowest;
        }
        var d = (Half)(Max(subScales) / 63f);
        var dmin = (Half)(Max(subMins) / 63f);
        BinaryPrimitives.WriteHalfLittleEndian(block, d);
        BinaryPrimitives.WriteHalfLittleEndian(block[2..], dmin);
        Span<int> scales = stackalloc int[8];
        Span<int> mins = stackalloc int[8];
        for (var s = 0; s < 8; s++)
        {
            scales[s] = (float)d > 0 ? Math.Clamp((int)MathF.Round(subScales[s] / (float)d), 0, 63) : 0;
            mins[s] = (float)dmin > 0 ? Math.Clamp((int)MathF.Round(subMins[s] / (float)dmin), 0, 63) : 0;
        }
        var packed = block.Slice(4, 12);
        for (var s = 0; s < 8; s++)
        {
            if (s < 4)
            {
                packed[s] |= (byte)scales[s];
                packed[s + 4] |= (byte)mins[s];
            }
            else
            {
                packed[s + 4] = (byte)((scales[s] & 0x0F) | ((mins[s] & 0x0F) << 4));
                packed[s - 4] |= (byte)((scales[s] >> 4) << 6);
                packed[s] |= (byte)((mins[s] >> 4) << 6);
            }
        }
        var quants = block.Slice(16, SuperBlockSize / 2);
        for (var s = 0; s < 8; s++)
        {
            // Quantize against the scale and min as they will be decoded, so rounding in the packing is not compounded.
            var step = (float)d * scales[s];
            var offset = (float)dmin * mins[s];
            var inverse = step > 0 ? 1f / step : 0f;
            for (var l = 0; l < 32; l++)
            {
                var q = Math.Clamp((int)MathF.Round((values[s * 32 + l] + offset) * inverse), 0, 15);
                var index = s / 2 * 32 + l;
                quants[index] |= (byte)(s % 2 == 0 ? q : q << 4);
            }
        }
    }

    public static void EncodeQ6K(ReadOnlySpan<float> values, Span<byte> block)
    {
        block[..Q6KBlockBytes].Clear();
        // Symmetric fit per 16-value sub-block; 31 rather than 32 levels up so the largest magnitude of either sign fits.
        Span<float> subScales = stackalloc float[16];
        for (var s = 0; s < 16; s++)
        {
            var absMax = 0f;
            foreach (var v in values.Slice(s * 16, 16))
                absMax = MathF.Max(absMax, MathF.Abs(v));
            subScales[s] = absMax / 31f;
        }
        var d = (Half)(Max(subScales) / 127f);
        BinaryPrimitives.WriteHalfLittleEndian(block[(Q6KBlockBytes - 2)..], d);
        Span<int> scales = stackalloc int[16];
        for (var s = 0; s < 16; s++)
        {
            scales[s] = (float)d > 0 ? Math.Clamp((int)MathF.Round(subScales[s] / (float)d), -128, 127) : 0;
            block[192 + s] = (byte)(sbyte)scales[s];
        }
        for (var i = 0; i < SuperBlockSize; i++)
        {
            var step = (float)d * scales[i / 16];
            var q = step > 0 ? Math.Clamp((int)MathF.Round(values[i] / step), -32, 31) : 0;
            var stored = q + 32;
            var half = i / 128;
            var within = i % 128;
            var quarter = within / 32; // 0: low nibble ql[l], 1: low ql[l+32], 2: high ql[l], 3: high ql[l+32]
            var l = within % 32;
            var qlIndex = half * 64 + l + (quarter % 2 == 1 ? 32 : 0);
            block[qlIndex] |= (byte)(quarter < 2 ? stored & 0x0F : (stored & 0x0F) << 4);
            block[128 + half * 32 + l] |= (byte)((stored >> 4) << (2 * quarter));
        }
    }

    private static float Max(ReadOnlySpan<float> values)
    {
        var max = 0f;
        foreach (var v in values)
            max = MathF.Max(max, v);
        return max;
    }
}
