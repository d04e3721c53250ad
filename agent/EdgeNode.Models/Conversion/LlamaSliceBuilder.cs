using System.Runtime.InteropServices;
using EdgeNode.Models.Conversion.Quantization;
using EdgeNode.Models.Onnx;

namespace EdgeNode.Models.Conversion;

/// <summary>
/// Writes one <see cref="SliceSpec"/> of a Llama-family model as an ONNX graph for ONNX Runtime's CPU
/// build and the EPs that carry its LLM contrib ops: GroupQueryAttention (rotary inside, KV cache in
/// BNSH with past and present sharing one buffer), SimplifiedLayerNormalization /
/// SkipSimplifiedLayerNormalization (RMSNorm with the residual add fused), and MatMulNBits for
/// quantized weights. Q, K and V are one packed projection and w1/w3 one gate-up projection, so a
/// decode step reads each weight once in as few kernels as possible. Weights go to external data.
/// </summary>
public sealed class LlamaSliceBuilder
{
    /// <summary>
    /// Changes whenever the graphs this builder writes compute differently, so folders converted by an older build are
    /// converted again instead of reused (2: slices cut mid-model normalize with the whole model's kernels).
    /// </summary>
    public const int GraphRevision = 2;

    private const string MicrosoftDomain = "com.microsoft";

    private readonly LlamaWeights _weights;
    private readonly LlamaConfig _config;
    private readonly WeightPrecision _precision;
    private readonly BlockQuantizer? _quantizer;

    private readonly int _accuracyLevel;
    private PrequantizedWeights? _prequantized;
    private readonly KvPrecision _kvPrecision;

    /// <param name="accuracyLevel">MatMulNBits accuracy_level: 4 lets the kernel quantize activations to int8
    /// (fast on AVX-VNNI / ARM dotprod), 0 keeps them float.</param>
    /// <param name="asymmetric">Quantize blocks over their [min, max] with a zero point instead of symmetrically.</param>
    /// <param name="prequantized">Matrices that arrived block-quantized (GGUF Q4_0 / Q8_0): written as they are wherever
    /// their format is the precision's bits at this block size.</param>
    /// <param name="kvPrecision">Element type of the KV cache. With fp16 the attention runs in float16 (GroupQueryAttention
    /// takes one type for q/k/v, the cache and the rotary tables): q/k/v go in through a Cast and the output comes back
    /// to float32 through another, so everything outside the attention stays float32.</param>
    public LlamaSliceBuilder(LlamaWeights weights, WeightPrecision precision, int blockSize = 32, int accuracyLevel = 4, bool asymmetric = false,
        PrequantizedWeights? prequantized = null, KvPrecision kvPrecision = KvPrecision.Fp32)
    {
        _kvPrecision = kvPrecision;
        _prequantized = prequantized is { Count: > 0 } ? prequantized : null;
        if (accuracyLevel is < 0 or > 4)
            throw new ArgumentOutOfRangeException(nameof(accuracyLevel), accuracyLevel, "accuracy level is 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8)");
        _accuracyLevel = accuracyLevel;
        _weights = weights;
        _config = weights.Config;
        _precision = precision;
        if (precision != WeightPrecision.Fp32)
            _quantizer = new BlockQuantizer(precision.Bits(), blockSize, asymmetric);
        if (_config.HeadSize % 2 != 0)
            throw new ArgumentException($"head size {_config.HeadSize} is odd: rotary embedding needs pairs");
    }

    public int BlockSize => _quantizer?.BlockSize ?? 0;

    /// <summary>
    /// Where a layer's weights come from when the weights given to the constructor hold none of them: a reader that
    /// loads each layer as the graph reaches it, so only one layer's tensors are in memory at a time.
    /// </summary>
    internal Func<int, LayerWeights>? LayerSource { get; init; }

    /// <summary>
    /// Blocks a <see cref="LayerSource"/> adds as it reads each layer: kept even while still empty, unlike the
    /// constructor's argument.
    /// </summary>
    internal PrequantizedWeights? LayerBlocks
    {
        init => _prequantized = value ?? _prequantized;
    }

    /// <summary>Builds the slice into <paramref name="onnxPath"/> (+ ".data" beside it).</summary>
    public void Build(SliceSpec spec, string onnxPath)
    {
        spec.Validate(_config);
        var needed = LayerSource is null ? spec : spec with { FirstLayer = spec.EndLayer };
        if (_weights.Selection is { } selection && !selection.Covers(needed))
            throw new ArgumentException($"slice {spec.FileName} needs tensors that were not read (the weights hold {selection}); read the checkpoint for this slice", nameof(spec));
        using var writer = new OnnxModelWriter(onnxPath, Path.GetFileNameWithoutExtension(onnxPath));
        writer.ImportOpset("", 21);
        writer.ImportOpset(MicrosoftDomain, 1);
        writer.SetMetadata("edgenode.architecture", "llama");
        writer.SetMetadata("edgenode.slice", $"embed={spec.Embed};layers={spec.FirstLayer}:{spec.EndLayer};head={spec.Head}");
        writer.SetMetadata("edgenode.precision", _precision.ToName());
        writer.SetMetadata("edgenode.kv_precision", _kvPrecision.ToName());

        var d = _config.Dim;
        string hidden;
        if (spec.Embed)
        {
            writer.AddInput(SliceTensorNames.InputIds, OnnxElementType.Int64, "batch", "sequence");
            writer.AddInitializer("embed.weight", [_config.VocabSize, d], _weights.TokenEmbedding);
            writer.AddNode("Gather", ["embed.weight", SliceTensorNames.InputIds], ["embed.out"], attributes: OnnxAttribute.Int("axis", 0));
            hidden = "embed.out";
        }
        else
        {
            writer.AddInput(SliceTensorNames.HiddenIn, OnnxElementType.Float, "batch", "sequence", d);
            hidden = SliceTensorNames.HiddenIn;
        }

        // The residual stream is carried as (residual, pending add) so that each add fuses into the
        // next RMSNorm; pendingAdd is null when the stream is already summed.
        var residual = hidden;
        string? pendingAdd = null;
        if (spec.HasLayers && !spec.Embed && spec.FirstLayer > 0)
        {
            // In a whole model every layer after the first normalizes with SkipSimplifiedLayerNormalization, whose
            // reduction rounds differently from SimplifiedLayerNormalization's. A slice that starts mid-model adds a
            // zero skip so its first norm runs the same kernel on the same values: slices cut anywhere compute
            // bit for bit what the whole model does (quantized activations turn a last-bit difference into a
            // different token within a few steps).
            writer.AddNode("Sub", [residual, residual], ["hidden.zero_skip"]);
            pendingAdd = "hidden.zero_skip";
        }
        if (spec.HasLayers)
        {
            writer.AddInput(SliceTensorNames.SeqLensK, OnnxElementType.Int32, "batch");
            writer.AddInput(SliceTensorNames.TotalSequenceLength, OnnxElementType.Int32);
            AddRotaryCaches(writer);
            for (var layer = spec.FirstLayer; layer < spec.EndLayer; layer++)
                (residual, pendingAdd) = AddLayer(writer, layer, residual, pendingAdd);
        }

        if (spec.Head)
        {
            // The final norm takes the summed stream, as it does when the head is a slice of its own.
            if (pendingAdd is not null)
            {
                writer.AddNode("Add", [residual, pendingAdd], ["final.residual"]);
                (residual, pendingAdd) = ("final.residual", null);
            }
            var normed = AddRmsNorm(writer, "final", residual, pendingAdd, _weights.RmsFinal, out _);
            AddProjection(writer, "lm_head", normed, _weights.Classifier, _config.VocabSize, d, SliceTensorNames.Logits);
            writer.AddOutput(SliceTensorNames.Logits, OnnxElementType.Float, "batch", "sequence", _config.VocabSize);
        }
        else
        {
            if (pendingAdd is not null)
                writer.AddNode("Add", [residual, pendingAdd], [SliceTensorNames.HiddenOut]);
            else
                writer.AddNode("Identity", [residual], [SliceTensorNames.HiddenOut]);
            writer.AddOutput(SliceTensorNames.HiddenOut, OnnxElementType.Float, "batch", "sequence", d);
        }
        writer.Save();
    }

    private (string Residual, string PendingAdd) AddLayer(OnnxModelWriter writer, int layer, string residual, string? pendingAdd)
    {
        var c = _config;
        var w = LayerSource?.Invoke(layer) ?? _weights.Layers[layer];
        var p = $"layers.{layer}";

        var attnIn = AddRmsNorm(writer, $"{p}.attn_norm", residual, pendingAdd, w.RmsAtt, out var attnResidual);

        var headSize = AttentionLayout.CacheHeadSize(c);
        var padded = AttentionLayout.IsPadded(c);
        // With per-head q/k norms the norm must see only a head's real dimensions (padding zeros would enter its mean),
        // so q and k are projected unpadded, normalised, and padded afterwards; otherwise every projection is padded here.
        var normHeads = w.QNorm is not null || w.KNorm is not null;
        var padQk = padded && !normHeads;
        float[] wq = w.Wq, wk = w.Wk, wv = w.Wv, wo = w.Wo;
        if (padQk)
        {
            wq = AttentionLayout.PadHeadRows(wq, c.Heads, c.HeadSize, headSize, c.Dim);
            wk = AttentionLayout.PadHeadRows(wk, c.KvHeads, c.HeadSize, headSize, c.Dim);
        }
        if (padded)
        {
            wv = AttentionLayout.PadHeadRows(wv, c.KvHeads, c.HeadSize, headSize, c.Dim);
            wo = AttentionLayout.PadHeadColumns(wo, c.Dim, c.Heads, c.HeadSize, headSize);
        }
        var qWidth = c.Heads * headSize;
        var kvWidth = c.KvHeads * headSize;
        var qkHeadSize = padQk || !padded ? headSize : c.HeadSize;
        var qProjected = c.Heads * qkHeadSize;
        var kProjected = c.KvHeads * qkHeadSize;
        var qkvWeight = Concat(wq, wk, wv);
        var qkvWidth = qProjected + kProjected + kvWidth;
        var qkvOut = $"{p}.qkv.out";
        if (w.Bq is null && w.Bk is null && w.Bv is null)
        {
            AddProjection(writer, $"{p}.qkv", attnIn, qkvWeight, qkvWidth, c.Dim, qkvOut);
        }
        else
        {
            // Qwen2-style q/k/v biases, added before the rotary embedding and the cache write (inside GQA).
            AddProjection(writer, $"{p}.qkv", attnIn, qkvWeight, qkvWidth, c.Dim, $"{p}.qkv.matmul");
            var bias = Concat(
                PadBias(w.Bq, c.Heads, c.HeadSize, qkHeadSize),
                PadBias(w.Bk, c.KvHeads, c.HeadSize, qkHeadSize),
                PadBias(w.Bv, c.KvHeads, c.HeadSize, headSize));
            writer.AddInitializer($"{p}.qkv.bias", [bias.Length], bias);
            writer.AddNode("Add", [$"{p}.qkv.matmul", $"{p}.qkv.bias"], [qkvOut]);
        }

        string[] attentionInputs = [qkvOut, "", ""];
        if (normHeads)
        {
            writer.AddInitializer($"{p}.qkv.split", OnnxElementType.Int64, [3], Int64Bytes(qProjected, kProjected, kvWidth));
            writer.AddNode("Split", [qkvOut, $"{p}.qkv.split"], [$"{p}.q.raw", $"{p}.k.raw", $"{p}.v"], attributes: OnnxAttribute.Int("axis", -1));
            attentionInputs =
            [
                AddHeadNorm(writer, $"{p}.q_norm", $"{p}.q.raw", w.QNorm, c.Heads, headSize),
                AddHeadNorm(writer, $"{p}.k_norm", $"{p}.k.raw", w.KNorm, c.KvHeads, headSize),
                $"{p}.v",
            ];
        }

        var halfKv = _kvPrecision == KvPrecision.Fp16;
        var kvType = halfKv ? OnnxElementType.Float16 : OnnxElementType.Float;
        if (halfKv)
        {
            for (var i = 0; i < attentionInputs.Length; i++)
            {
                if (attentionInputs[i].Length == 0)
                    continue;
                writer.AddNode("Cast", [attentionInputs[i]], [$"{attentionInputs[i]}.fp16"], attributes: OnnxAttribute.Int("to", (long)OnnxElementType.Float16));
                attentionInputs[i] = $"{attentionInputs[i]}.fp16";
            }
        }
        var attentionOut = halfKv ? $"{p}.attn.out.fp16" : $"{p}.attn.out";
        var pastKey = SliceTensorNames.PastKey(layer);
        var pastValue = SliceTensorNames.PastValue(layer);
        var presentKey = SliceTensorNames.PresentKey(layer);
        var presentValue = SliceTensorNames.PresentValue(layer);
        writer.AddInput(pastKey, kvType, "batch", c.KvHeads, "cache_sequence", headSize);
        writer.AddInput(pastValue, kvType, "batch", c.KvHeads, "cache_sequence", headSize);
        writer.AddOutput(presentKey, kvType, "batch", c.KvHeads, "cache_sequence", headSize);
        writer.AddOutput(presentValue, kvType, "batch", c.KvHeads, "cache_sequence", headSize);
        writer.AddNode("GroupQueryAttention",
            [.. attentionInputs, pastKey, pastValue, SliceTensorNames.SeqLensK, SliceTensorNames.TotalSequenceLength, "rope.cos", "rope.sin"],
            [attentionOut, presentKey, presentValue],
            MicrosoftDomain, $"{p}.attn",
            OnnxAttribute.Int("num_heads", c.Heads),
            OnnxAttribute.Int("kv_num_heads", c.KvHeads),
            OnnxAttribute.Int("do_rotary", 1),
            // The real head size sets the softmax scale, also when heads are padded.
            OnnxAttribute.Float("scale", 1f / MathF.Sqrt(c.HeadSize)),
            // llama2.c rotates consecutive pairs (i, i+1) within a head: the interleaved pattern.
            OnnxAttribute.Int("rotary_interleaved", 1));
        if (halfKv)
            writer.AddNode("Cast", [attentionOut], [$"{p}.attn.out"], attributes: OnnxAttribute.Int("to", (long)OnnxElementType.Float));
        AddProjection(writer, $"{p}.wo", $"{p}.attn.out", wo, c.Dim, qWidth, $"{p}.wo.out");

        var ffnIn = AddRmsNorm(writer, $"{p}.ffn_norm", attnResidual, $"{p}.wo.out", w.RmsFfn, out var ffnResidual);
        var gateUp = Concat(w.W1, w.W3);
        AddProjection(writer, $"{p}.gate_up", ffnIn, gateUp, 2 * c.HiddenDim, c.Dim, $"{p}.gate_up.out");
        writer.AddNode("Split", [$"{p}.gate_up.out"], [$"{p}.gate", $"{p}.up"],
            attributes: [OnnxAttribute.Int("axis", -1), OnnxAttribute.Int("num_outputs", 2)]);
        writer.AddNode("Sigmoid", [$"{p}.gate"], [$"{p}.gate.sigmoid"]);
        writer.AddNode("Mul", [$"{p}.gate", $"{p}.gate.sigmoid"], [$"{p}.gate.silu"]);
        writer.AddNode("Mul", [$"{p}.gate.silu", $"{p}.up"], [$"{p}.swiglu"]);
        AddProjection(writer, $"{p}.w2", $"{p}.swiglu", w.W2, c.Dim, c.HiddenDim, $"{p}.ffn.out");
        return (ffnResidual, $"{p}.ffn.out");
    }

    /// <summary>
    /// RMSNorm of residual (+ pendingAdd when there is one). Returns the normalized tensor and, through
    /// <paramref name="summed"/>, the name of the summed residual stream.
    /// </summary>
    private string AddRmsNorm(OnnxModelWriter writer, string name, string residual, string? pendingAdd, float[] gamma, out string summed)
    {
        writer.AddInitializer($"{name}.weight", [gamma.Length], gamma);
        var output = $"{name}.out";
        if (pendingAdd is null)
        {
            writer.AddNode("SimplifiedLayerNormalization", [residual, $"{name}.weight"], [output], name: name,
                attributes: [OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", _config.NormEps)]);
            summed = residual;
        }
        else
        {
            summed = $"{name}.residual";
            writer.AddNode("SkipSimplifiedLayerNormalization", [residual, pendingAdd, $"{name}.weight"], [output, "", "", summed],
                MicrosoftDomain, name, OnnxAttribute.Float("epsilon", _config.NormEps));
        }
        return output;
    }

    /// <summary>
    /// RMSNorm of each head of <paramref name="input"/> [batch, sequence, heads * HeadSize] on its own (Qwen3's q_norm /
    /// k_norm), then zero-padded to <paramref name="paddedHeadSize"/> per head. A null weight leaves the heads as they are.
    /// </summary>
    private string AddHeadNorm(OnnxModelWriter writer, string name, string input, float[]? gamma, int heads, int paddedHeadSize)
    {
        var headSize = _config.HeadSize;
        var padding = paddedHeadSize - headSize;
        if (gamma is null && padding == 0)
            return input;
        writer.AddInitializer($"{name}.heads_shape", OnnxElementType.Int64, [4], Int64Bytes(0, 0, heads, headSize));
        writer.AddNode("Reshape", [input, $"{name}.heads_shape"], [$"{name}.heads"]);
        var current = $"{name}.heads";
        if (gamma is not null)
        {
            writer.AddInitializer($"{name}.weight", [headSize], gamma);
            writer.AddNode("SimplifiedLayerNormalization", [current, $"{name}.weight"], [$"{name}.normed"], name: name,
                attributes: [OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", _config.NormEps)]);
            current = $"{name}.normed";
        }
        if (padding > 0)
        {
            writer.AddInitializer($"{name}.pads", OnnxElementType.Int64, [8], Int64Bytes(0, 0, 0, 0, 0, 0, 0, padding));
            writer.AddNode("Pad", [current, $"{name}.pads"], [$"{name}.padded"]);
            current = $"{name}.padded";
        }
        writer.AddInitializer($"{name}.flat_shape", OnnxElementType.Int64, [3], Int64Bytes(0, 0, heads * paddedHeadSize));
        writer.AddNode("Reshape", [current, $"{name}.flat_shape"], [$"{name}.out"]);
        return $"{name}.out";
    }

    private static byte[] Int64Bytes(params long[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>float16 little-endian bytes of <paramref name="values"/> (round to nearest even).</summary>
    private static byte[] HalfBytes(float[] values)
    {
        var halves = new Half[values.Length];
        for (var i = 0; i < values.Length; i++)
            halves[i] = (Half)values[i];
        return MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
    }

    /// <summary>y = x · Wᵀ for W stored [n][k] (llama2.c's [out][in]).</summary>
    private void AddProjection(OnnxModelWriter writer, string name, string input, ReadOnlySpan<float> weight, int n, int k, string output)
    {
        if (_quantizer is null)
        {
            writer.AddInitializer($"{name}.weight", [k, n], Transpose(weight, n, k));
            writer.AddNode("MatMul", [input, $"{name}.weight"], [output], name: name);
            return;
        }
        var q = _prequantized?.Quantize(_quantizer, weight, n, k) ?? _quantizer.Quantize(weight, n, k);
        writer.AddInitializer($"{name}.qweight", OnnxElementType.UInt8, [n, q.BlocksPerRow, q.BlobBytes], q.Packed);
        writer.AddInitializer($"{name}.scales", [n, q.BlocksPerRow], q.Scales);
        List<string> inputs = [input, $"{name}.qweight", $"{name}.scales"];
        if (q.ZeroPoints is not null)
        {
            writer.AddInitializer($"{name}.zero_points", OnnxElementType.UInt8, [n, q.ZeroPointBytes], q.ZeroPoints);
            inputs.Add($"{name}.zero_points");
        }
        writer.AddNode("MatMulNBits", inputs, [output], MicrosoftDomain, name,
            OnnxAttribute.Int("K", k),
            OnnxAttribute.Int("N", n),
            OnnxAttribute.Int("bits", q.Bits),
            OnnxAttribute.Int("block_size", q.BlockSize),
            OnnxAttribute.Int("accuracy_level", _accuracyLevel));
    }

    /// <summary>
    /// cos/sin tables [max_seq][cache_head/2] from the model's rotary frequencies (theta, and Llama-3 scaling
    /// when the config has it), angle = pos * freq in float32 as the reference computes it. Pairs that only
    /// exist because of head padding get cos 1, sin 0: they hold zeros and stay zeros. With a float16 cache the
    /// tables are stored as float16 once, rounded from the float32 angles, instead of cast on every run.
    /// </summary>
    private void AddRotaryCaches(OnnxModelWriter writer)
    {
        var half = AttentionLayout.CacheHeadSize(_config) / 2;
        var frequencies = _config.RopeFrequencies();
        var rows = _config.MaxSeqLen;
        var cos = new float[rows * half];
        var sin = new float[rows * half];
        for (var pos = 0; pos < rows; pos++)
        {
            for (var j = 0; j < half; j++)
            {
                if (j >= frequencies.Length)
                {
                    cos[pos * half + j] = 1f;
                    continue;
                }
                var angle = pos * frequencies[j];
                cos[pos * half + j] = MathF.Cos(angle);
                sin[pos * half + j] = MathF.Sin(angle);
            }
        }
        if (_kvPrecision == KvPrecision.Fp16)
        {
            writer.AddInitializer("rope.cos", OnnxElementType.Float16, [rows, half], HalfBytes(cos));
            writer.AddInitializer("rope.sin", OnnxElementType.Float16, [rows, half], HalfBytes(sin));
            return;
        }
        writer.AddInitializer("rope.cos", [rows, half], cos);
        writer.AddInitializer("rope.sin", [rows, half], sin);
    }

    /// <summary>A bias of heads*headSize values (zeros when absent) in the padded head layout.</summary>
    private static float[] PadBias(float[]? bias, int heads, int headSize, int padded)
    {
        bias ??= new float[heads * headSize];
        return padded == headSize ? bias : AttentionLayout.PadHeadRows(bias, heads, headSize, padded, 1);
    }

    private static float[] Transpose(ReadOnlySpan<float> weight, int n, int k)
    {
        var result = new float[weight.Length];
        for (var row = 0; row < n; row++)
        {
            var src = weight.Slice(row * k, k);
            for (var col = 0; col < k; col++)
                result[(long)col * n + row] = src[col];
        }
        return result;
    }

    private static float[] Concat(params float[][] parts)
    {
        var total = 0L;
        foreach (var part in parts) total += part.Length;
        var result = new float[total];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }
}
