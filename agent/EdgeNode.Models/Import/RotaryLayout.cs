namespace EdgeNode.Models.Import;

/// <summary>
/// Converts query/key projection rows between the two RoPE layouts. Hugging Face Llama-family checkpoints rotate
/// "halves": in a head of size H, dimension i pairs with i + H/2 at frequency theta^(-2i/H). EdgeNode (like llama2.c and
/// llama.cpp's llama architecture) rotates adjacent pairs (2i, 2i+1) at that same frequency.
/// <para>
/// Let P move row i + jH/2 of each head to row 2i + j (j = 0, 1). Rotation is linear and acts on the same pair with the
/// same angle in both layouts, so interleaved-rotate(P q) = P rotate-half(q). Attention only uses q·k within a head,
/// and (P q)·(P k) = q·k because P is a permutation; values and the output projection are untouched. So a model whose
/// Wq, Wk (and their biases) have rows permuted by P gives the same logits under interleaved RoPE as the original
/// under rotate-half RoPE.
/// </para>
/// </summary>
public static class RotaryLayout
{
    /// <summary>Applies P: rotate-half row order to interleaved-pair row order. Works for biases with rowLength 1.</summary>
    public static float[] HalvesToInterleaved(ReadOnlySpan<float> rows, int heads, int headSize, int rowLength) =>
        Permute(rows, heads, headSize, rowLength, toInterleaved: true);

    /// <summary>Applies P⁻¹: interleaved-pair row order back to rotate-half row order.</summary>
    public static float[] InterleavedToHalves(ReadOnlySpan<float> rows, int heads, int headSize, int rowLength) =>
        Permute(rows, heads, headSize, rowLength, toInterleaved: false);

    private static float[] Permute(ReadOnlySpan<float> rows, int heads, int headSize, int rowLength, bool toInterleaved)
    {
        if (headSize % 2 != 0)
            throw new ArgumentException($"head size {headSize} is odd; RoPE rotates pairs", nameof(headSize));
        if (rows.Length != (long)heads * headSize * rowLength)
            throw new ArgumentException($"{rows.Length} values are not {heads} heads × {headSize} rows × {rowLength}", nameof(rows));
        var result = new float[rows.Length];
        var half = headSize / 2;
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < half; i++)
            {
                for (var j = 0; j < 2; j++)
                {
                    var halvesRow = h * headSize + j * half + i;
                    var interleavedRow = h * headSize + 2 * i + j;
                    var (from, to) = toInterleaved ? (halvesRow, interleavedRow) : (interleavedRow, halvesRow);
                    rows.Slice(from * rowLength, rowLength).CopyTo(result.AsSpan(to * rowLength, rowLength));
                }
            }
        }
        return result;
    }
}
