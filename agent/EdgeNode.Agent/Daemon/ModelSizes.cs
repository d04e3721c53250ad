using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Membership;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// What a model's pieces weigh at a precision, as a node offers them to the planner: per layer (attention, FFN and
/// the two norms), the embedding table and the head (final norm + classifier, its own copy even when the checkpoint
/// shares it, since the head runs on another node). Matrices shrink with the precision; norms stay fp32.
/// </summary>
internal static class ModelSizes
{
    public static ServableModel Servable(string name, LlamaConfig c, WeightPrecision precision, long tokenizerBytes, string sha256)
    {
        var perMatrixParam = precision switch
        {
            WeightPrecision.Fp32 => 4.0,
            WeightPrecision.Int8 => 1.0 + 4.0 / 32,   // a scale per block of 32
            _ => 0.5 + 4.0 / 32,
        };
        long dim = c.Dim, q = c.QDim, kv = c.KvDim, hidden = c.HiddenDim, vocab = c.VocabSize;
        var matrices = dim * q + 2 * dim * kv + q * dim + 3 * dim * hidden;
        var perLayer = (long)Math.Ceiling(matrices * perMatrixParam) + 2 * dim * 4;
        return new ServableModel
        {
            Name = name,
            Layers = c.Layers,
            Dim = c.Dim,
            BytesPerLayer = perLayer,
            EmbedBytes = vocab * dim * 4,
            HeadBytes = (long)Math.Ceiling(vocab * dim * perMatrixParam) + dim * 4,
            TokenizerBytes = tokenizerBytes,
            Sha256 = sha256,
            Local = true,
        };
    }

    public static long Whole(ServableModel m) => m.Layers * m.BytesPerLayer + m.EmbedBytes + m.HeadBytes + m.TokenizerBytes;
}
