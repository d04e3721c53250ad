using EdgeNode.Models.Conversion;
using EdgeNode.Models.Conversion.Quantization;

namespace EdgeNode.Inference.Tests.Quantization;

public sealed class BlockQuantizerTests
{
    [Theory]
    [InlineData(4, 32, true)]
    [InlineData(8, 32, true)]
    [InlineData(4, 64, true)]
    [InlineData(8, 16, true)]
    public void Every_value_comes_back_within_half_a_step(int bits, int blockSize, bool asymmetric)
    {
        // K = 172 leaves a partial last block and, for 4-bit zero points, an odd block count (a half-used byte).
        const int n = 7, k = 172;
        var weights = RandomMatrix(n, k, seed: bits * 1000 + blockSize, lopsided: asymmetric);
        var q = new BlockQuantizer(bits, blockSize, asymmetric).Quantize(weights, n, k);
        Assert.Equal(asymmetric, q.ZeroPoints is not null);
        for (var row = 0; row < n; row++)
        {
            for (var col = 0; col < k; col++)
            {
                var step = Math.Abs(q.Scale(row, col / blockSize));
                var error = Math.Abs(q.Dequantize(row, col) - weights[row * k + col]);
                Assert.True(error <= step / 2 * (1 + 1e-5) + 1e-7, $"[{row},{col}] error {error} > half step {step / 2}");
            }
        }
    }

    [Fact]
    public void Asymmetric_4bit_zero_points_pack_two_blocks_per_byte_low_nibble_first()
    {
        // Three blocks of 16 per row: blocks shifted so their zero points differ (all-positive block -> zero point 0,
        // all-negative block -> 15, mixed block in between).
        const int k = 48;
        var row = new float[k];
        for (var i = 0; i < 16; i++)
        {
            row[i] = 1 + i;
            row[16 + i] = -1 - i;
            row[32 + i] = i - 5;
        }
        var q = new BlockQuantizer(4, 16, asymmetric: true).Quantize(row, 1, k);
        Assert.Equal(2, q.ZeroPointBytes);
        Assert.NotNull(q.ZeroPoints);
        Assert.Equal(0, q.ZeroPoints[0] & 0x0F);
        Assert.Equal(15, q.ZeroPoints[0] >> 4);
        Assert.Equal(5, q.ZeroPoints[1] & 0x0F);
        Assert.Equal(q.ZeroPoint(0, 2), q.ZeroPoints[1] & 0x0F);
    }

    [Fact]
    public void Asymmetric_error_is_smaller_on_lopsided_blocks()
    {
        const int n = 16, k = 256;
        var weights = RandomMatrix(n, k, seed: 7, lopsided: true);
        double Error(bool asymmetric)
        {
            var q = new BlockQuantizer(4, 32, asymmetric).Quantize(weights, n, k);
            var back = q.Dequantize();
            return back.Zip(weights, (a, b) => (double)(a - b) * (a - b)).Sum();
        }
        Assert.True(Error(true) < Error(false) * 0.8, $"asymmetric {Error(true)} vs symmetric {Error(false)}");
    }

    private static float[] RandomMatrix(int n, int k, int seed, bool lopsided)
    {
        var random = new Random(seed);
        var values = new float[n * k];
        for (var i = 0; i < values.Length; i++)
        {
            var v = (float)(random.NextDouble() * 2 - 1);
            values[i] = lopsided ? v * v * 0.3f + 0.05f * (float)random.NextDouble() - 0.01f : v * 0.1f;
        }
        return values;
    }
}
