using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EdgeNode.Models;

/// <summary>Reads and writes llama2.c legacy (version 0) float32 checkpoints.</summary>
public static class Llama2cCheckpoint
{
    // Upper bounds far above any real model; a header beyond them is corrupt or not a checkpoint at all.
    private const int MaxDim = 65536;
    private const int MaxHiddenDim = 1 << 20;
    private const int MaxLayers = 4096;
    private const int MaxVocab = 1_000_000;
    private const int MaxSeqLen = 1 << 20;

    // Read in slices so no buffer beyond the destination arrays is ever needed.
    private const int ReadChunkBytes = 16 << 20;

    public static LlamaConfig ReadConfig(string path) => ReadHeader(path).Config;

    /// <summary>The header's shape and whether the classifier is shared with the embedding (vocab_size &gt; 0).</summary>
    public static (LlamaConfig Config, bool SharedClassifier) ReadHeader(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return ReadHeader(handle, Path.GetFileName(path));
    }

    public static LlamaWeights Read(string path) => Read(path, WeightSelection.All);

    /// <summary>
    /// Reads only the tensors <paramref name="selection"/> names, each straight from its offset (the layout puts a
    /// tensor of every layer in one stacked run, so a slice's layers are spread over the file: they are read by seeking,
    /// never by streaming past the rest). Memory follows the selection.
    /// </summary>
    public static LlamaWeights Read(string path, WeightSelection selection)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(selection);
        var fileName = Path.GetFileName(path);
        // Sequential hints only help when the whole file is read in order.
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, selection.IsAll ? FileOptions.SequentialScan : FileOptions.RandomAccess);
        var (config, shared) = ReadHeader(handle, fileName);
        var spans = Llama2cLayout.Tensors(config, shared);
        CheckLength(fileName, RandomAccess.GetLength(handle), spans);

        var cursor = 0;
        float[] Next(bool wanted)
        {
            var span = spans[cursor++];
            if (!wanted)
                return [];
            var values = new float[span.FloatCount];
            ReadFloats(handle, span.ByteOffset, values);
            return values;
        }
        float[][] NextStacked()
        {
            var perLayer = new float[config.Layers][];
            for (var layer = 0; layer < config.Layers; layer++)
                perLayer[layer] = Next(selection.IncludesLayer(layer));
            return perLayer;
        }

        // A tied classifier is the embedding tensor: the head needs it too.
        var embedding = Next(selection.Embedding || (selection.Head && shared));
        var rmsAtt = NextStacked();
        var wq = NextStacked();
        var wk = NextStacked();
        var wv = NextStacked();
        var wo = NextStacked();
        var rmsFfn = NextStacked();
        var w1 = NextStacked();
        var w2 = NextStacked();
        var w3 = NextStacked();
        var rmsFinal = Next(selection.Head);
        cursor += 2; // freq_cis_real, freq_cis_imag: recomputed from the config wherever needed
        var classifier = shared ? embedding : Next(selection.Head);

        var layers = new LayerWeights[config.Layers];
        for (var l = 0; l < layers.Length; l++)
        {
            layers[l] = !selection.IncludesLayer(l) ? WeightSelection.SkippedLayer : new LayerWeights
            {
                RmsAtt = rmsAtt[l], Wq = wq[l], Wk = wk[l], Wv = wv[l], Wo = wo[l],
                RmsFfn = rmsFfn[l], W1 = w1[l], W2 = w2[l], W3 = w3[l],
            };
        }
        return new LlamaWeights
        {
            Config = config, TokenEmbedding = embedding, Layers = layers, RmsFinal = rmsFinal, Classifier = classifier,
            Selection = selection.IsAll ? null : selection,
        };
    }

    /// <summary>Writes the legacy layout, including the freq_cis tables llama2.c's legacy exporter writes.</summary>
    public static void Write(LlamaWeights weights, string path)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(path);
        if (weights.Selection is { } selection)
            throw new ArgumentException($"{path}: these weights hold only {selection} of the model; a checkpoint needs all of them", nameof(weights));
        CheckShapes(weights);
        var config = weights.Config;
        // The llama2.c format has no fields for biases, rope base or scaling: refuse what it cannot carry.
        if (weights.Layers.Any(l => l.Bq is not null || l.Bk is not null || l.Bv is not null) || config.RopeScaling is not null || config.RopeFactors is not null || config.RopeTheta != 10000f)
            throw new ArgumentException($"{path}: the llama2.c format cannot hold q/k/v biases, rope scaling or a rope base other than 10000", nameof(weights));
        if (config.HasExplicitHeadSize || weights.Layers.Any(l => l.QNorm is not null || l.KNorm is not null))
            throw new ArgumentException($"{path}: the llama2.c format cannot hold a head size other than dim / n_heads or q/k norms", nameof(weights));
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteHeader(stream, config, weights.SharedClassifier);
        WriteFloats(stream, weights.TokenEmbedding);
        foreach (var select in LayerTensorOrder)
        {
            foreach (var layer in weights.Layers)
                WriteFloats(stream, select(layer));
        }
        WriteFloats(stream, weights.RmsFinal);
        var (real, imaginary) = Llama2cLayout.RopeTables(config);
        WriteFloats(stream, real);
        WriteFloats(stream, imaginary);
        if (!weights.SharedClassifier)
            WriteFloats(stream, weights.Classifier);
    }

    /// <summary>The per-layer tensors in file order.</summary>
    internal static readonly Func<LayerWeights, float[]>[] LayerTensorOrder =
    [
        l => l.RmsAtt, l => l.Wq, l => l.Wk, l => l.Wv, l => l.Wo, l => l.RmsFfn, l => l.W1, l => l.W2, l => l.W3,
    ];

    public static void WriteHeader(Stream stream, LlamaConfig config, bool sharedClassifier)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(config);
        Span<byte> header = stackalloc byte[Llama2cLayout.HeaderBytes];
        int[] fields = [config.Dim, config.HiddenDim, config.Layers, config.Heads, config.KvHeads,
            sharedClassifier ? config.VocabSize : -config.VocabSize, config.MaxSeqLen];
        for (var i = 0; i < fields.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(header[(i * 4)..], fields[i]);
        stream.Write(header);
    }

    public static void WriteFloats(Stream stream, ReadOnlySpan<float> values)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RequireLittleEndian();
        stream.Write(MemoryMarshal.AsBytes(values));
    }

    private static (LlamaConfig, bool) ReadHeader(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string fileName)
    {
        RequireLittleEndian();
        var length = RandomAccess.GetLength(handle);
        if (length < Llama2cLayout.HeaderBytes)
        {
            throw new ModelFormatException(
                $"{fileName}: {length} bytes is shorter than the {Llama2cLayout.HeaderBytes}-byte llama2.c header; " +
                "this is not a llama2.c checkpoint or the download is incomplete — fetch it again");
        }
        var header = new byte[Llama2cLayout.HeaderBytes];
        RandomAccess.Read(handle, header, 0);
        int Field(int index) => BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(index * 4));
        int dim = Field(0), hidden = Field(1), layers = Field(2), heads = Field(3), kvHeads = Field(4), vocab = Field(5), seqLen = Field(6);

        CheckRange(fileName, "dim", dim, MaxDim);
        CheckRange(fileName, "hidden_dim", hidden, MaxHiddenDim);
        CheckRange(fileName, "n_layers", layers, MaxLayers);
        CheckRange(fileName, "n_heads", heads, dim);
        CheckRange(fileName, "n_kv_heads", kvHeads, heads);
        if (vocab == 0 || vocab == int.MinValue || Math.Abs(vocab) > MaxVocab)
        {
            throw new ModelFormatException(
                $"{fileName}: header field vocab_size = {vocab} is outside ±[1, {MaxVocab}]; " +
                "this is not a llama2.c checkpoint (or it uses a newer export version) — re-export it with the legacy (version 0) llama2.c exporter");
        }
        CheckRange(fileName, "seq_len", seqLen, MaxSeqLen);
        if (dim % heads != 0)
            throw new ModelFormatException($"{fileName}: header field n_heads = {heads} does not divide dim = {dim}; the header is corrupt — fetch the file again");
        if (heads % kvHeads != 0)
            throw new ModelFormatException($"{fileName}: header field n_kv_heads = {kvHeads} does not divide n_heads = {heads}; the header is corrupt — fetch the file again");
        if (dim / heads % 2 != 0)
            throw new ModelFormatException($"{fileName}: head size dim / n_heads = {dim / heads} is odd, but RoPE rotates pairs; the header is corrupt — fetch the file again");

        var config = new LlamaConfig(dim, hidden, layers, heads, kvHeads, Math.Abs(vocab), seqLen);
        return (config, vocab > 0);
    }

    private static void CheckRange(string fileName, string field, int value, int max)
    {
        if (value <= 0 || value > max)
        {
            throw new ModelFormatException(
                $"{fileName}: header field {field} = {value} is outside [1, {max}]; " +
                "this is not a llama2.c checkpoint (or it uses a newer export version) — re-export it with the legacy (version 0) llama2.c exporter");
        }
    }

    private static void CheckLength(string fileName, long length, IReadOnlyList<Llama2cTensorSpan> spans)
    {
        var expected = spans[^1].EndOffset;
        if (length == expected)
            return;
        if (length > expected)
        {
            throw new ModelFormatException(
                $"{fileName}: {length - expected} trailing bytes fit no layout: this header needs exactly {expected} bytes, found {length}; " +
                "the file is not a legacy llama2.c checkpoint for this header (a newer export version or a different model) — re-export it with the legacy exporter");
        }
        var truncated = spans.First(s => s.EndOffset > length);
        throw new ModelFormatException(
            $"{fileName}: truncated inside tensor {truncated.Describe()}: expected {expected} bytes for this header, found {length}; " +
            "the download is incomplete — fetch it again");
    }

    private static void ReadFloats(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, float[] destination)
    {
        var bytes = MemoryMarshal.AsBytes(destination.AsSpan());
        while (bytes.Length > 0)
        {
            var chunk = bytes[..Math.Min(bytes.Length, ReadChunkBytes)];
            var read = RandomAccess.Read(handle, chunk, offset);
            if (read <= 0)
                throw new EndOfStreamException($"unexpected end of file at byte {offset}");
            bytes = bytes[read..];
            offset += read;
        }
    }

    private static void CheckShapes(LlamaWeights weights)
    {
        var c = weights.Config;
        void Expect(string name, float[] values, long count)
        {
            if (values.LongLength != count)
                throw new ArgumentException($"tensor {name} holds {values.LongLength} values but the config needs {count}", nameof(weights));
        }
        long dim = c.Dim, hidden = c.HiddenDim, kv = c.KvDim, q = c.QDim;
        Expect("token_embedding_table", weights.TokenEmbedding, c.VocabSize * dim);
        Expect("wcls", weights.Classifier, c.VocabSize * dim);
        Expect("rms_final_weight", weights.RmsFinal, dim);
        if (weights.Layers.Length != c.Layers)
            throw new ArgumentException($"{weights.Layers.Length} layers but the config has {c.Layers}", nameof(weights));
        foreach (var l in weights.Layers)
        {
            Expect("rms_att_weight", l.RmsAtt, dim);
            Expect("wq", l.Wq, q * dim);
            Expect("wk", l.Wk, kv * dim);
            Expect("wv", l.Wv, kv * dim);
            Expect("wo", l.Wo, dim * q);
            Expect("rms_ffn_weight", l.RmsFfn, dim);
            Expect("w1", l.W1, hidden * dim);
            Expect("w2", l.W2, dim * hidden);
            Expect("w3", l.W3, hidden * dim);
        }
    }

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("llama2.c checkpoints are little-endian; big-endian hosts are not supported");
    }
}
