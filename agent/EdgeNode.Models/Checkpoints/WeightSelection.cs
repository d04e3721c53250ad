using EdgeNode.Models.Conversion;

namespace EdgeNode.Models;

/// <summary>
/// Which tensors of a checkpoint a reader loads: the token embedding, some layers, and the head (final norm and
/// classifier). A pool node that builds only its slice reads only what the slice needs, so its memory follows the
/// slice and not the model. Readers give tensors outside the selection as empty arrays and record the selection in
/// <see cref="LlamaWeights.Selection"/>, so code that needs them fails with a message instead of reading zeros.
/// </summary>
public sealed class WeightSelection
{
    // Null: every layer.
    private readonly (int First, int End)[]? _layers;

    private WeightSelection(bool embedding, bool head, (int First, int End)[]? layers)
    {
        Embedding = embedding;
        Head = head;
        _layers = layers;
    }

    /// <summary>Every tensor: what whole-model conversion reads.</summary>
    public static WeightSelection All { get; } = new(true, true, null);

    public bool Embedding { get; }

    /// <summary>The final norm and the classifier (which, when tied, is the embedding tensor).</summary>
    public bool Head { get; }

    public bool IsAll => _layers is null && Embedding && Head;

    /// <summary>What the slices need, together (a node may build its embed slice and a layer slice, say).</summary>
    public static WeightSelection For(IEnumerable<SliceSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var list = specs.ToList();
        if (list.Count == 0)
            throw new ArgumentException("no slices named: a node builds at least one slice", nameof(specs));
        var ranges = list.Where(s => s.HasLayers).Select(s => (s.FirstLayer, s.EndLayer)).OrderBy(r => r.FirstLayer).ToArray();
        return new WeightSelection(list.Any(s => s.Embed), list.Any(s => s.Head), ranges);
    }

    /// <summary>The embedding and/or the head and the given layer ranges.</summary>
    public static WeightSelection Of(bool embedding, bool head, params (int First, int End)[] layers) =>
        new(embedding, head, layers.OrderBy(r => r.First).ToArray());

    public bool IncludesLayer(int layer)
    {
        if (_layers is null)
            return true;
        foreach (var (first, end) in _layers)
        {
            if (layer >= first && layer < end)
                return true;
        }
        return false;
    }

    /// <summary>Whether weights read with this selection hold everything <paramref name="spec"/> needs.</summary>
    public bool Covers(SliceSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Embed && !Embedding || spec.Head && !Head)
            return false;
        for (var layer = spec.FirstLayer; layer < spec.EndLayer; layer++)
        {
            if (!IncludesLayer(layer))
                return false;
        }
        return true;
    }

    public override string ToString()
    {
        if (IsAll)
            return "all tensors";
        var parts = new List<string>();
        if (Embedding) parts.Add("embedding");
        parts.AddRange(_layers!.Select(r => $"layers {r.First}:{r.End}"));
        if (Head) parts.Add("head");
        return parts.Count == 0 ? "nothing" : string.Join(", ", parts);
    }

    /// <summary>Stands for a layer a reader skipped: every tensor empty.</summary>
    internal static LayerWeights SkippedLayer { get; } = new()
    {
        RmsAtt = [], Wq = [], Wk = [], Wv = [], Wo = [], RmsFfn = [], W1 = [], W2 = [], W3 = [],
    };
}
