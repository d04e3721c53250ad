using System.Text.Json.Serialization;

namespace EdgeNode.Pool.Planning;

/// <summary>
/// Which node serves which contiguous piece of one model, in chain order, for one epoch. A plan is what the
/// control plane publishes (retained) and what the data plane obeys: a frame that carries another epoch is refused,
/// so two plans never serve at once.
/// </summary>
/// <param name="Pool">The pool's name.</param>
/// <param name="Model">The served model's name (its file or folder name without extension).</param>
/// <param name="Epoch">Increases with every new plan of the pool; never reused.</param>
/// <param name="Assignments">Chain order: the first holds the embedding and the tokenizer and coordinates sessions,
/// the last holds the head and samples.</param>
public sealed record PoolPlan(string Pool, string Model, long Epoch, IReadOnlyList<SliceAssignment> Assignments)
{
    [JsonIgnore]
    public int Hops => Assignments.Count;

    public SliceAssignment? For(string nodeId)
    {
        foreach (var a in Assignments)
            if (a.NodeId == nodeId) return a;
        return null;
    }
}

/// <summary>
/// One node's piece of a plan: layers [FirstLayer, EndLayer), plus the embedding (first in the chain) or the head
/// (last in the chain), and the address its data plane listens on.
/// </summary>
public sealed record SliceAssignment(string NodeId, int FirstLayer, int EndLayer, bool Embed, bool Head, string DataEndpoint)
{
    [JsonIgnore]
    public int LayerCount => EndLayer - FirstLayer;
}
