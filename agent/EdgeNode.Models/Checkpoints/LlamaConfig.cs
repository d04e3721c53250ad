namespace EdgeNode.Models;

/// <summary>The shape of a Llama-family decoder, as the llama2.c header describes it.</summary>
public sealed record LlamaConfig(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int MaxSeqLen)
{
    public float RopeTheta { get; init; } = 10000f;

    public float NormEps { get; init; } = 1e-5f;

    /// <summary>Llama-3-style RoPE frequency scaling, or null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Per-pair frequency divisors read from a GGUF rope_freqs tensor, or null; used when <see cref="RopeScaling"/> is null.</summary>
    public RopeFrequencyFactors? RopeFactors { get; init; }

    /// <summary>
    /// The rotation frequency of each pair in a head (HeadSize / 2 values): theta^(-2i/HeadSize), adjusted by
    /// <see cref="RopeScaling"/> or divided by <see cref="RopeFactors"/> when set. Pair i is (2i, 2i+1) in the interleaved layout every EdgeNode graph uses.
    /// </summary>
    public float[] RopeFrequencies()
    {
        var frequencies = new float[HeadSize / 2];
        for (var i = 0; i < frequencies.Length; i++)
        {
            // Same float32 expression as llama2.c's run.c, so unscaled models keep bit-identical logits.
            var frequency = 1f / MathF.Pow(RopeTheta, 2 * i / (float)HeadSize);
            frequencies[i] = RopeScaling is not null ? RopeScaling.Adjust(frequency)
                : RopeFactors is not null ? frequency / RopeFactors.Factors[i]
                : frequency;
        }
        return frequencies;
    }

    private readonly int? _explicitHeadSize;

    /// <summary>
    /// Width of one attention head: Dim / Heads unless the model says otherwise (Qwen3-0.6B has 16 heads of 128 over a
    /// 1024-wide stream). Setting it to Dim / Heads stores nothing, so such a config equals one that never set it.
    /// </summary>
    public int HeadSize
    {
        get => _explicitHeadSize ?? Dim / Heads;
        init => _explicitHeadSize = Heads > 0 && value * Heads == Dim ? null : value;
    }

    /// <summary>True when the head size is not Dim / Heads, which llama2.c's header cannot express.</summary>
    public bool HasExplicitHeadSize => _explicitHeadSize is not null;

    /// <summary>Width of all query heads together: the rows of wq and the columns of wo.</summary>
    public int QDim => Heads * HeadSize;

    public int KvDim => KvHeads * HeadSize;

    /// <summary>Parameters with the classifier shared with the embedding (the count model cards quote).</summary>
    public long ParameterCount
    {
        get
        {
            long perLayer = 2L * Dim                     // rms_att, rms_ffn
                + 2L * QDim * Dim                         // wq, wo
                + 2L * KvDim * Dim                        // wk, wv
                + 3L * HiddenDim * Dim;                   // w1, w2, w3
            return (long)VocabSize * Dim + Layers * perLayer + Dim;
        }
    }
}
