namespace EdgeNode.Models;

/// <summary>All weights of a Llama-family model in float32.</summary>
public sealed class LlamaWeights
{
    public required LlamaConfig Config { get; init; }

    /// <summary>[vocab][dim].</summary>
    public required float[] TokenEmbedding { get; init; }

    public required LayerWeights[] Layers { get; init; }

    public required float[] RmsFinal { get; init; }

    /// <summary>[vocab][dim]; the same array instance as <see cref="TokenEmbedding"/> when the two are tied.</summary>
    public required float[] Classifier { get; init; }

    public bool SharedClassifier => ReferenceEquals(Classifier, TokenEmbedding);

    /// <summary>
    /// The tensors a reader loaded when it read only part of the checkpoint (a slice's), or null when it read all of
    /// them. Tensors outside it are empty arrays: such weights can build the slices the selection covers and nothing else.
    /// </summary>
    public WeightSelection? Selection { get; init; }
}
