using System.Buffers.Binary;
using EdgeNode.Models.Gguf;

namespace EdgeNode.Models.Conversion.Quantization;

/// <summary>
/// Moves ggml Q4_0 and Q8_0 blocks into MatMulNBits' block-32 layout without touching a value: both formats are
/// symmetric blocks of 32 with one fp16 scale, which widens to fp32 exactly. Only the code layout differs. Q4_0 keeps
/// elements j and j+16 in one byte (low, high nibble) with value (q - 8) * d, MatMulNBits keeps elements 2i and 2i+1
/// (low, high) and subtracts its default zero point 8: same codes, nibbles reordered. Q8_0 stores int8 q with value
/// q * d, MatMulNBits uint8 codes with default zero point 128: code = q + 128.
/// </summary>
public static class GgufBlockRepacker
{
    private const int BlockSize = GgufBlockQuantizer.BlockSize;
    private const int Q4BlockBytes = 2 + BlockSize / 2;
    private const int Q8BlockBytes = 2 + BlockSize;

    public static bool CanRepack(GgufTensorType type) => type is GgufTensorType.Q4_0 or GgufTensorType.Q8_0;

    /// <summary>The [n][k] matrix stored as ggml <paramref name="type"/> blocks in <paramref name="raw"/> (rows of k values, k a multiple of 32).</summary>
    public static QuantizedMatrix Repack(GgufTensorType type, ReadOnlySpan<byte> raw, int n, int k)
    {
        if (!CanRepack(type))
            throw new ArgumentException($"ggml type {type} has no lossless MatMulNBits form; only Q4_0 and Q8_0 do", nameof(type));
        if (k % BlockSize != 0)
            throw new ArgumentException($"row length {k} is not a whole number of {BlockSize}-value blocks", nameof(k));
        var blocks = (long)n * (k / BlockSize);
        var sourceBlockBytes = type == GgufTensorType.Q4_0 ? Q4BlockBytes : Q8BlockBytes;
        if (raw.Length != blocks * sourceBlockBytes)
            throw new ArgumentException($"{raw.Length} bytes are not {n}x{k} values of {type}", nameof(raw));

        var bits = type == GgufTensorType.Q4_0 ? 4 : 8;
        var blobBytes = BlockSize * bits / 8;
        var packed = new byte[blocks * blobBytes];
        var scales = new float[blocks];
        for (var b = 0; b < blocks; b++)
        {
            var source = raw.Slice((int)(b * sourceBlockBytes), sourceBlockBytes);
            scales[b] = (float)BinaryPrimitives.ReadHalfLittleEndian(source);
            var codes = source[2..];
            var blob = packed.AsSpan((int)(b * blobBytes), blobBytes);
            if (bits == 4)
            {
                for (var i = 0; i < blobBytes; i++)
                {
                    var even = Q4Code(codes, 2 * i);
                    var odd = Q4Code(codes, 2 * i + 1);
                    blob[i] = (byte)(even | (odd << 4));
                }
            }
            else
            {
                for (var i = 0; i < BlockSize; i++)
                    blob[i] = (byte)(codes[i] ^ 0x80); // int8 q -> uint8 q + 128
            }
        }
        return new QuantizedMatrix(n, k, bits, BlockSize, packed, scales);
    }

    /// <summary>Element <paramref name="index"/> of a Q4_0 block: byte j holds elements j (low nibble) and j + 16 (high).</summary>
    private static int Q4Code(ReadOnlySpan<byte> codes, int index) =>
        index < BlockSize / 2 ? codes[index] & 0x0F : codes[index - BlockSize / 2] >> 4;
}
