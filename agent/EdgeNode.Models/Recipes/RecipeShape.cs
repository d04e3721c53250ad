namespace EdgeNode.Models.Recipes;

/// <summary>A decoder's shape as its published config.json declares it.</summary>
public sealed class RecipeShape
{
    public required int Dim { get; init; }
    public required int HiddenDim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }

    /// <summary>Per-head width; Qwen3 makes it larger than Dim / Heads.</summary>
    public required int HeadSize { get; init; }

    public required int VocabSize { get; init; }
    public required double RopeTheta { get; init; }
    public RecipeRopeScaling? RopeScaling { get; init; }
    public required double NormEps { get; init; }

    /// <summary>Biases on the q, k and v projections (Qwen2).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>The classifier is the embedding table (tie_word_embeddings).</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>An RMSNorm over each query and key head before RoPE (Qwen3).</summary>
    public bool QkNorm { get; init; }

    public required int MaxContext { get; init; }

    public int QueryWidth => Heads * HeadSize;

    public int KvWidth => KvHeads * HeadSize;

    /// <summary>Parameters of one decoder layer: projections, their biases, norms.</summary>
    public long LayerParameters =>
        (long)Dim * QueryWidth * 2                 // wq, wo
        + (long)Dim * KvWidth * 2                  // wk, wv
        + 3L * Dim * HiddenDim                     // gate, up, down
        + (AttentionBias ? QueryWidth + 2L * KvWidth : 0)
        + 2L * Dim                                 // attention and FFN norms
        + (QkNorm ? 2L * HeadSize : 0);

    /// <summary>Parameters with a tied classifier counted once, as publishers count them.</summary>
    public long ParameterCount =>
        (long)VocabSize * Dim * (TiedEmbeddings ? 1 : 2) + Layers * LayerParameters + Dim;
}

/// <summary>Llama-3 RoPE frequency scaling, as config.json's rope_scaling declares it.</summary>
public sealed class RecipeRopeScaling
{
    public required string Type { get; init; }
    public required double Factor { get; init; }
    public required double LowFreqFactor { get; init; }
    public required double HighFreqFactor { get; init; }
    public required int OriginalMaxContext { get; init; }
}
