namespace EdgeNode.Models.Recipes;

/// <summary>
/// Everything EdgeNode knows about running one model family: where its published checkpoint lives, the
/// shape its config.json declares, the chat format it was tuned on, the quantization variants worth using
/// and how each variant splits over a pool. Read from the JSON files under Recipes/Families.
/// </summary>
public sealed class ModelRecipe
{
    /// <summary>The name users type (`models pull NAME`, `--recipe NAME`), also the pulled folder's name.</summary>
    public required string Name { get; init; }

    /// <summary>Family within which weights load the same way: llama, llama2c, mistral, qwen2, qwen3.</summary>
    public required string Family { get; init; }

    /// <summary>The `architectures` entry of config.json (or "llama2.c" for llama2.c checkpoints).</summary>
    public required string Architecture { get; init; }

    public required string Summary { get; init; }

    /// <summary>"huggingface" (config.json + safetensors + tokenizer.json) or "llama2.c".</summary>
    public required string Format { get; init; }

    public required RecipeHubSource Hub { get; init; }

    /// <summary>The parameter count the publisher quotes, with tied embeddings counted once.</summary>
    public required long PublishedParameters { get; init; }

    public required RecipeShape Shape { get; init; }

    /// <summary>Name of the chat format the model was tuned on, or null for a plain completion model.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Recommended variants, the default first.</summary>
    public required List<RecipeVariant> Variants { get; init; }

    /// <summary>Results of benchmark runs; empty until the model has been measured.</summary>
    public List<RecipeMeasurement> Measured { get; set; } = [];

    public RecipeVariant DefaultVariant => Variants[0];

    /// <summary>
    /// Refuses a checkpoint whose shape is not this recipe's: its variants and pool plans were worked out for this
    /// shape and would be wrong for any other.
    /// </summary>
    public void CheckCheckpoint(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var s = Shape;
        foreach (var (key, expected, actual) in new[]
                 {
                     ("dim", s.Dim, config.Dim), ("hidden_dim", s.HiddenDim, config.HiddenDim), ("layers", s.Layers, config.Layers),
                     ("heads", s.Heads, config.Heads), ("kv_heads", s.KvHeads, config.KvHeads), ("vocab_size", s.VocabSize, config.VocabSize),
                 })
        {
            if (expected != actual)
            {
                throw new ModelFormatException(
                    $"the checkpoint has {key} {actual}, recipe {Name} expects {expected}: it is not {Hub.Repository}; "
                    + $"pull it with 'edgenode models pull {Name}' or choose the recipe of this model");
            }
        }
    }

    /// <summary>The variant called <paramref name="name"/>; an unknown name is an error listing the recipe's variants.</summary>
    public RecipeVariant Variant(string name) =>
        Variants.Find(v => string.Equals(v.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"recipe {Name} has no variant '{name}'; its variants: {string.Join(", ", Variants.Select(v => v.Name))}");
}
