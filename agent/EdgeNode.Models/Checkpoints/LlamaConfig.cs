namespace EdgeNode.Models;

/// <summary>The shape of a Llama-family decoder, as the llama2.c header describes it.</summary>
public sealed record LlamaConfig(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, int MaxSeqLen)
{
    public float RopeTheta { get; init; } = 10000f;

    public float NormEps { get; init; } = 1e-5f;

    public int HeadSize => Dim / Heads;

    public int KvDim => Dim * KvHeads / Heads;

    /// <summary>Parameters with the classifier shared with the embedding (the count model cards quote).</summary>
    public long ParameterCount
    {
        get
        {
            long perLayer = 2L * Dim                     // rms_att, rms_ffn
                + 2L * Dim * Dim                          // wq, wo
                + 2L * KvDim * Dim                        // wk, wv
                + 3L * HiddenDim * Dim;                   // w1, w2, w3
            return (long)VocabSize * Dim + Layers * perLayer + Dim;
        }
    }
}
