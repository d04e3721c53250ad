using System.Buffers.Binary;

namespace EdgeNode.Models.Gguf;

/// <summary>
/// ggml's block formats: Q8_0 is 32 values as an fp16 scale then 32 int8; Q4_0 is 32 values as an fp16 scale then
/// 16 bytes whose low nibbles hold values 0..15 of the block and high nibbles values 16..31, each offset by 8.
/// Rounding follows ggml's reference quantizers so the bytes match llama.cpp's own output.
/// </summary>
public static class GgufBlockQuantizer
{
    public const int BlockSize = 32;
    private const int Q8BlockBytes = 2 + BlockSize;
    private const int Q4BlockBytes = 2 + BlockSize / 2;

    public static long ByteCount(GgufTensorType type, long elements) => type switch
    {
        GgufTensorType.F32 => elements * 4,
        GgufTensorType.F16 => elements * 2,
        GgufTensorType.Q8_0 => RequireBlocks(elements) * Q8BlockBytes,
        GgufTensorType.Q4_0 => RequireBlocks(elements) * Q4BlockBytes,
        GgufTensorType.BF16 => elements * 2,
        GgufTensorType.Q4_K => GgufKQuantBlocks.RequireSuperBlocks(elements) * GgufKQuantBlocks.Q4KBlockBytes,
        GgufTensorType.Q6_K => GgufKQuantBlocks.RequireSuperBlocks(elements) * GgufKQuantBlocks.Q6KBlockBytes,
        _ => throw new NotSupportedException($"tensor type {(int)type} is not supported"),
    };

    public static bool IsBlockType(GgufTensorType type) => type is GgufTensorType.Q8_0 or GgufTensorType.Q4_0;

    public static void Encode(GgufTensorType type, ReadOnlySpan<float> values, Span<byte> destination)
    {
        switch (type)
        {
            case GgufTensorType.F32:
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], values[i]);
                break;
            case GgufTensorType.F16:
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)values[i]);
                break;
            case GgufTensorType.Q8_0:
                for (var b = 0; b < RequireBlocks(values.Length); b++)
                    QuantizeQ8Block(values.Slice(b * BlockSize, BlockSize), destination.Slice(b * Q8BlockBytes, Q8BlockBytes));
                break;
            case GgufTensorType.Q4_0:
                for (var b = 0; b < RequireBlocks(values.Length); b++)
                    QuantizeQ4Block(values.Slice(b * BlockSize, BlockSize), destination.Slice(b * Q4BlockBytes, Q4BlockBytes));
                break;
            case GgufTensorType.Q4_K:
                for (var b = 0; b < GgufKQuantBlocks.RequireSuperBlocks(values.Length); b++)
                {
                    GgufKQuantBlocks.EncodeQ4K(values.Slice(b * GgufKQuantBlocks.SuperBlockSize, GgufKQuantBlocks.SuperBlockSize),
                        destination.Slice(b * GgufKQuantBlocks.Q4KBlockBytes, GgufKQuantBlocks.Q4KBlockBytes));
                }
                break;
            case GgufTensorType.Q6_K:
                for (var b = 0; b < GgufKQuantBlocks.RequireSuperBlocks(values.Length); b++)
                {
                    GgufKQuantBlocks.EncodeQ6K(values.Slice(b * GgufKQuantBlocks.SuperBlockSize, GgufKQuantBlocks.SuperBlockSize),
                        destination.Slice(b * GgufKQuantBlocks.Q6KBlockBytes, GgufKQuantBlocks.Q6KBlockBytes));
                }
                break;
            default:
                throw new NotSupportedException($"tensor type {type} is not supported");
        }
    }

    public static void Decode(GgufTensorType type, ReadOnlySpan<byte> source, Span<float> values)
    {
        switch (type)
        {
            case GgufTensorType.F32:
                for (var i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                break;
            case GgufTensorType.F16:
                for (var i = 0; i < values.Length; i++)
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]);
                break;
            case GgufTensorType.Q8_0:
                for (var b = 0; b < RequireBlocks(values.Length); b++)
                {
                    var block = source.Slice(b * Q8BlockBytes, Q8BlockBytes);
                    var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (var j = 0; j < BlockSize; j++)
                        values[b * BlockSize + j] = (sbyte)block[2 + j] * scale;
                }
                break;
            case GgufTensorType.Q4_0:
                for (var b = 0; b < RequireBlocks(values.Length); b++)
                {
                    var block = source.Slice(b * Q4BlockBytes, Q4BlockBytes);
                    var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (var j = 0; j < BlockSize / 2; j++)
                    {
                        values[b * BlockSize + j] = ((block[2 + j] & 0x0F) - 8) * scale;
                        values[b * BlockSize + j + BlockSize / 2] = ((block[2 + j] >> 4) - 8) * scale;
                    }
                }
                break;
            case GgufTensorType.BF16:
                // bfloat16 is the top half of a float32.
                for (var i = 0; i < values.Length; i++)
                    values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..]) << 16);
                break;
            case GgufTensorType.Q4_K:
                for (var b = 0; b < GgufKQuantBlocks.RequireSuperBlocks(values.Length); b++)
                {
                    GgufKQuantBlocks.DecodeQ4K(source.Slice(b * GgufKQuantBlocks.Q4KBlockBytes, GgufKQuantBlocks.Q4KBlockBytes),
                        values.Slice(b * GgufKQuantBlocks.SuperBlockSize, GgufKQuantBlocks.SuperBlockSize));
                }
                break;
            case GgufTensorType.Q6_K:
                for (var b = 0; b < GgufKQuantBlocks.RequireSuperBlocks(values.Length); b++)
                {
                    GgufKQuantBlocks.DecodeQ6K(source.Slice(b * GgufKQuantBlocks.Q6KBlockBytes, GgufKQuantBlocks.Q6KBlockBytes),
                        values.Slice(b * GgufKQuantBlocks.SuperBlockSize, GgufKQuantBlocks.SuperBlockSize));
                }
                break;
            default:
                throw new NotSupportedException($"tensor type {type} is not supported");
        }
    }

    private static void QuantizeQ8Block(ReadOnlySpan<float> x, Span<byte> block)
    {
        var absMax = 0f;
        foreach (var v in x)
            absMax = MathF.Max(absMax, MathF.Abs(v));
        var scale = absMax / 127f;
        var inverse = scale != 0f ? 1f / scale : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)scale);
        for (var j = 0; j < BlockSize; j++)
            block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * inverse, MidpointRounding.AwayFromZero);
    }

    private static void QuantizeQ4Block(ReadOnlySpan<float> x, Span<byte> block)
    {
        // The scale is signed: the value of largest magnitude maps exactly to -8, the end with one more level.
        var absMax = 0f;
        var signedMax = 0f;
        foreach (var v in x)
        {
            if (absMax < MathF.Abs(v))
            {
                absMax = MathF.Abs(v);
                signedMax = v;
            }
        }
        var scale = signedMax / -8f;
        var inverse = scale != 0f ? 1f / scale : 0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)scale);
        for (var j = 0; j < BlockSize / 2; j++)
        {
            var low = Math.Min(15, (int)(x[j] * inverse + 8.5f));
            var high = Math.Min(15, (int)(x[j + BlockSize / 2] * inverse + 8.5f));
            block[2 + j] = (byte)(low | (high << 4));
        }
    }

    private static long RequireBlocks(long elements)
    {
        if (elements % BlockSize != 0)
            throw new ArgumentException($"{elements} values are not a whole number of {BlockSize}-value blocks", nameof(elements));
        return elements / BlockSize;
    }
}
