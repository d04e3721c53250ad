using EdgeNode.Models.Import;

namespace EdgeNode.Models.Tests.Import;

public sealed class RotaryLayoutTests
{
    [Fact]
    public void The_two_permutations_are_inverse()
    {
        var rows = Enumerable.Range(0, 3 * 8 * 5).Select(i => (float)i).ToArray();
        var interleaved = RotaryLayout.HalvesToInterleaved(rows, 3, 8, 5);
        Assert.NotEqual(rows, interleaved);
        Assert.Equal(rows, RotaryLayout.InterleavedToHalves(interleaved, 3, 8, 5));
        // Row i of the first half and row i of the second half become the adjacent pair (2i, 2i+1).
        var single = RotaryLayout.HalvesToInterleaved([0, 1, 2, 3, 10, 11, 12, 13], 1, 8, 1);
        Assert.Equal([0f, 10, 1, 11, 2, 12, 3, 13], single);
    }

    [Fact]
    public void Interleaved_rotation_of_permuted_rows_is_the_permuted_rotate_half_rotation()
    {
        const int headSize = 8, heads = 2, position = 7;
        var random = new Random(5);
        var x = Enumerable.Range(0, heads * headSize).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        float Angle(int pair) => position / MathF.Pow(10000f, 2 * pair / (float)headSize);

        var rotateHalf = new float[x.Length];
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < headSize / 2; i++)
            {
                int a = h * headSize + i, b = a + headSize / 2;
                rotateHalf[a] = x[a] * MathF.Cos(Angle(i)) - x[b] * MathF.Sin(Angle(i));
                rotateHalf[b] = x[b] * MathF.Cos(Angle(i)) + x[a] * MathF.Sin(Angle(i));
            }
        }
        var permuted = RotaryLayout.HalvesToInterleaved(x, heads, headSize, 1);
        var interleaved = new float[x.Length];
        for (var i = 0; i < x.Length; i += 2)
        {
            var pair = i % headSize / 2;
            interleaved[i] = permuted[i] * MathF.Cos(Angle(pair)) - permuted[i + 1] * MathF.Sin(Angle(pair));
            interleaved[i + 1] = permuted[i + 1] * MathF.Cos(Angle(pair)) + permuted[i] * MathF.Sin(Angle(pair));
        }
        Assert.Equal(RotaryLayout.HalvesToInterleaved(rotateHalf, heads, headSize, 1), interleaved);
    }
}
