namespace EdgeNode.Models;

/// <summary>
/// The legacy (version 0) llama2.c file layout: a 28-byte header, then float32 tensors, each stacked over
/// layers, in a fixed order. Reader, writer and the synthetic generator all walk this one list so they
/// cannot drift apart.
/// </summary>
public static class Llama2cLayout
{
    public const int HeaderBytes = 7 * sizeof(int);

    /// <summary>Every tensor in file order, stacked tensors split per layer.</summary>
    public static IReadOnlyList<Llama2cTensorSpan> Tensors(LlamaConfig config, bool sharedClassifier)
    {
        ArgumentNullException.ThrowIfNull(config);
        var spans = new List<Llama2cTensorSpan>(12 * config.Layers + 8);
        long offset = HeaderBytes;
        void Add(string name, int layer, long floats)
        {
            spans.Add(new Llama2cTensorSpan(name, layer, offset, floats));
            offset += floats * sizeof(float);
        }
        void AddStacked(string name, long floatsPerLayer)
        {
            for (var layer = 0; layer < config.Layers; layer++)
                Add(name, layer, floatsPerLayer);
        }

        long dim = config.Dim, hidden = config.HiddenDim, kvDim = config.KvDim, qDim = config.QDim;
        Add("token_embedding_table", -1, config.VocabSize * dim);
        AddStacked("rms_att_weight", dim);
        AddStacked("wq", qDim * dim);
        AddStacked("wk", kvDim * dim);
        AddStacked("wv", kvDim * dim);
        AddStacked("wo", dim * qDim);
        AddStacked("rms_ffn_weight", dim);
        AddStacked("w1", hidden * dim);
        AddStacked("w2", dim * hidden);
        AddStacked("w3", hidden * dim);
        Add("rms_final_weight", -1, dim);
        // The legacy layout still carries the RoPE tables that run.c skips.
        Add("freq_cis_real", -1, (long)config.MaxSeqLen * (config.HeadSize / 2));
        Add("freq_cis_imag", -1, (long)config.MaxSeqLen * (config.HeadSize / 2));
        if (!sharedClassifier)
            Add("wcls", -1, config.VocabSize * dim);
        return spans;
    }

    public static long FileBytes(LlamaConfig config, bool sharedClassifier)
    {
        var spans = Tensors(config, sharedClassifier);
        return spans[^1].EndOffset;
    }

    /// <summary>
    /// The freq_cis tables the legacy exporter writes: cos and sin of position * theta^(-2i/head_size),
    /// computed in float32 as PyTorch does.
    /// </summary>
    public static (float[] Real, float[] Imaginary) RopeTables(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var half = config.HeadSize / 2;
        var real = new float[(long)config.MaxSeqLen * half];
        var imaginary = new float[real.Length];
        var frequencies = new float[half];
        for (var i = 0; i < half; i++)
            frequencies[i] = 1f / MathF.Pow(config.RopeTheta, 2 * i / (float)config.HeadSize);
        for (var position = 0; position < config.MaxSeqLen; position++)
        {
            for (var i = 0; i < half; i++)
            {
                var angle = position * frequencies[i];
                real[(long)position * half + i] = MathF.Cos(angle);
                imaginary[(long)position * half + i] = MathF.Sin(angle);
            }
        }
        return (real, imaginary);
    }
}
