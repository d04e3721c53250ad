namespace EdgeNode.Models;

/// <summary>One transformer block's tensors, row-major [out][in] exactly as llama2.c stores them.</summary>
public sealed class LayerWeights
{
    public required float[] RmsAtt { get; init; }
    public required float[] Wq { get; init; }
    public required float[] Wk { get; init; }
    public required float[] Wv { get; init; }
    public required float[] Wo { get; init; }
    public required float[] RmsFfn { get; init; }
    public required float[] W1 { get; init; }
    public required float[] W2 { get; init; }
    public required float[] W3 { get; init; }

    // Attention projection biases, for families that have them (Qwen2); null means no bias. Bq and Bk are in the same
    // interleaved-pair row order as Wq and Wk.
    public float[]? Bq { get; init; }

    public float[]? Bk { get; init; }

    public float[]? Bv { get; init; }

    // Per-head RMSNorm weights applied to each query and key head after the projection and before RoPE (Qwen3); null
    // means none. HeadSize values each, in the same interleaved-pair order as the rows of one head of Wq and Wk.
    public float[]? QNorm { get; init; }

    public float[]? KNorm { get; init; }
}
