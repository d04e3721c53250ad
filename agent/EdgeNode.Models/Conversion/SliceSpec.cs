namespace EdgeNode.Models.Conversion;

/// <summary>
/// One contiguous piece of the transformer, built into one ONNX model: optionally the token embedding,
/// layers [FirstLayer, EndLayer), optionally the final norm and classifier. A pool node runs one such
/// slice; local solo runs embed, all layers and head.
/// </summary>
public sealed record SliceSpec(bool Embed, int FirstLayer, int EndLayer, bool Head)
{
    public static SliceSpec EmbedOnly => new(true, 0, 0, false);

    public static SliceSpec HeadOnly(int layers) => new(false, layers, layers, true);

    public static SliceSpec Layers(int first, int end) => new(false, first, end, false);

    public int LayerCount => EndLayer - FirstLayer;

    public bool HasLayers => EndLayer > FirstLayer;

    /// <summary>The file name a converter gives this slice: embed.onnx, layers_0_5.onnx, head.onnx, or a combined name.</summary>
    public string FileName
    {
        get
        {
            var parts = new List<string>(3);
            if (Embed) parts.Add("embed");
            if (HasLayers) parts.Add($"layers_{FirstLayer}_{EndLayer}");
            if (Head) parts.Add("head");
            return string.Join('+', parts) + ".onnx";
        }
    }

    /// <summary>
    /// Parses a slice as a user writes it: parts joined by '+', each "embed", "head" or a layer range "a:b" — e.g.
    /// "embed+0:3", "3:6", "6:9+head", "head". <paramref name="layers"/> (the model's layer count) places a head
    /// without layers after the last layer.
    /// </summary>
    public static SliceSpec Parse(string text, int layers)
    {
        ArgumentNullException.ThrowIfNull(text);
        bool embed = false, head = false;
        int? first = null, end = null;
        foreach (var part in text.Split('+', StringSplitOptions.TrimEntries))
        {
            if (part == "embed" && !embed)
            {
                embed = true;
                continue;
            }
            if (part == "head" && !head)
            {
                head = true;
                continue;
            }
            var ends = part.Split(':');
            if (first is null && ends.Length == 2 && int.TryParse(ends[0], out var a) && int.TryParse(ends[1], out var b))
            {
                (first, end) = (a, b);
                continue;
            }
            throw new ArgumentException($"slice '{text}': '{part}' is not embed, head or a layer range a:b (e.g. embed+0:3, 3:6, 6:{layers}+head)");
        }
        var spec = first is { } f ? new SliceSpec(embed, f, end!.Value, head)
            : head ? new SliceSpec(embed, layers, layers, true)
            : new SliceSpec(embed, 0, 0, false);
        if (spec.Embed && spec.Head && !spec.HasLayers)
            throw new ArgumentException($"slice '{text}': embed and head together need the layers between them (embed+0:{layers}+head)");
        return spec;
    }

    /// <summary>Parses several slices separated by ',' (see <see cref="Parse"/>).</summary>
    public static IReadOnlyList<SliceSpec> ParseList(string text, int layers) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => Parse(t, layers)).ToList();

    /// <summary>As the user writes it: "embed+0:3", "3:6", "head".</summary>
    public override string ToString()
    {
        var parts = new List<string>(3);
        if (Embed) parts.Add("embed");
        if (HasLayers) parts.Add($"{FirstLayer}:{EndLayer}");
        if (Head) parts.Add("head");
        return string.Join('+', parts);
    }

    public void Validate(LlamaConfig config)
    {
        if (FirstLayer < 0 || EndLayer > config.Layers || FirstLayer > EndLayer)
            throw new ArgumentException($"layer range [{FirstLayer},{EndLayer}) is outside the model's {config.Layers} layers");
        if (!Embed && !HasLayers && !Head)
            throw new ArgumentException("a slice needs the embedding, at least one layer, or the head");
        if (Embed && FirstLayer != 0)
            throw new ArgumentException("a slice that holds the embedding must start at layer 0");
        if (Head && EndLayer != config.Layers)
            throw new ArgumentException("a slice that holds the head must end at the last layer");
    }
}

/// <summary>Tensor names shared by the graph builder and the runtime that binds them.</summary>
public static class SliceTensorNames
{
    /// <summary>int64 [batch, sequence]: token ids (slices that hold the embedding).</summary>
    public const string InputIds = "input_ids";

    /// <summary>float [batch, sequence, dim]: hidden states entering a slice without the embedding.</summary>
    public const string HiddenIn = "hidden_in";

    /// <summary>float [batch, sequence, dim]: hidden states leaving a slice without the head.</summary>
    public const string HiddenOut = "hidden_out";

    /// <summary>float [batch, sequence, vocab].</summary>
    public const string Logits = "logits";

    /// <summary>int32 [batch]: total positions after this run minus one (GroupQueryAttention's convention).</summary>
    public const string SeqLensK = "seqlens_k";

    /// <summary>int32 scalar: positions in the cache after this run.</summary>
    public const string TotalSequenceLength = "total_sequence_length";

    public static string PastKey(int layer) => $"past_key.{layer}";
    public static string PastValue(int layer) => $"past_value.{layer}";
    public static string PresentKey(int layer) => $"present_key.{layer}";
    public static string PresentValue(int layer) => $"present_value.{layer}";
}
