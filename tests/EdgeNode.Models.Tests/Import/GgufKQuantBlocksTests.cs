using System.Buffers.Binary;
using EdgeNode.Models.Gguf;

namespace EdgeNode.Models.Tests.Import;

/// <summary>
/// The K-quant decoders against the block definitions, read here bit by bit in a different way: as a flat bit stream
/// of 6-bit fields (Q4_K scales) and per-value index arithmetic (Q6_K), on random block bytes.
/// </summary>
public sealed class GgufKQuantBlocksTests
{
    private static byte[] RandomBlock(int bytes, int seed, params int[] halfOffsets)
    {
        var random = new Random(seed);
        var block = new byte[bytes];
        random.NextBytes(block);
        foreach (var offset in halfOffsets)
            BinaryPrimitives.WriteHalfLittleEndian(block.AsSpan(offset), (Half)(random.NextDouble() * 0.02));
        return block;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Q4_K_decodes_as_its_block_definition(int seed)
    {
        var block = RandomBlock(144, seed, 0, 2);
        float d = (float)BinaryPrimitives.ReadHalfLittleEndian(block), dmin = (float)BinaryPrimitives.ReadHalfLittleEndian(block.AsSpan(2));
        // Sub-blocks 0-3: scale = bits 0-5 of byte s, min = bits 0-5 of byte s+4. Sub-blocks 4-7: low 4 bits from byte s+4
        // (scale in the low nibble, min in the high nibble), high 2 bits from bits 6-7 of byte s-4 (scale) and byte s (min).
        int Scale(int s) => s < 4 ? block[4 + s] & 0x3F : (block[4 + s + 4] & 0xF) + 16 * (block[4 + s - 4] >> 6);
        int Min(int s) => s < 4 ? block[4 + s + 4] & 0x3F : (block[4 + s + 4] >> 4) + 16 * (block[4 + s] >> 6);
        var decoded = new float[256];
        GgufBlockQuantizer.Decode(GgufTensorType.Q4_K, block, decoded);
        for (var i = 0; i < 256; i++)
        {
            var s = i / 32;
            var quantByte = block[16 + i / 64 * 32 + i % 32];
            var q = s % 2 == 0 ? quantByte & 0xF : quantByte >> 4;
            Assert.Equal(d * Scale(s) * q - dmin * Min(s), decoded[i], 6);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Q6_K_decodes_as_its_block_definition(int seed)
    {
        var block = RandomBlock(210, seed, 208);
        var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block.AsSpan(208));
        var decoded = new float[256];
        GgufBlockQuantizer.Decode(GgufTensorType.Q6_K, block, decoded);
        for (var i = 0; i < 256; i++)
        {
            int half = i / 128, quarter = i % 128 / 32, l = i % 32;
            var lowByte = block[half * 64 + l + 32 * (quarter % 2)];
            var low = quarter < 2 ? lowByte & 0xF : lowByte >> 4;
            var high = (block[128 + half * 32 + l] >> (2 * quarter)) & 3;
            var scale = (sbyte)block[192 + i / 16];
            Assert.Equal(d * scale * (low + 16 * high - 32), decoded[i], 6);
        }
    }

    [Theory]
    [InlineData(GgufTensorType.Q4_K, 144, 0.1)]
    [InlineData(GgufTensorType.Q6_K, 210, 0.03)]
    public void Quantizing_then_decoding_stays_close(GgufTensorType type, int blockBytes, double maxRelativeError)
    {
        var random = new Random(9);
        // Bell-shaped weights with a few 8x outliers, like trained matrices. The bounds are what 4 and 6 bits can give on
        // such data: a 16-level step over a 32-value range is ~9% RMS; a 63-level step over a 16-value range is ~2%.
        var values = Enumerable.Range(0, 4 * 256).Select(i => (float)((random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * (i % 97 == 0 ? 8 : 1))).ToArray();
        var encoded = new byte[GgufBlockQuantizer.ByteCount(type, values.Length)];
        Assert.Equal(4 * blockBytes, encoded.Length);
        GgufBlockQuantizer.Encode(type, values, encoded);
        var decoded = new float[values.Length];
        GgufBlockQuantizer.Decode(type, encoded, decoded);
        var norm = Math.Sqrt(values.Sum(v => (double)v * v));
        var error = Math.Sqrt(values.Zip(decoded, (a, b) => (double)(a - b) * (a - b)).Sum());
        Assert.InRange(error / norm, 0, maxRelativeError);
    }

    [Fact]
    public void K_quants_need_whole_super_blocks()
    {
        Assert.Throws<ArgumentException>(() => GgufBlockQuantizer.ByteCount(GgufTensorType.Q4_K, 255));
        Assert.Equal(210, GgufBlockQuantizer.ByteCount(GgufTensorType.Q6_K, 256));
    }
}
