using EdgeNode.Inference.Sessions;

namespace EdgeNode.Gateway;

/// <summary>
/// A model the API offers under <paramref name="Id"/>. The host says how to load it (resolving and converting a
/// checkpoint is the host's business); the gateway loads it on first use and keeps it.
/// </summary>
/// <param name="Id">The name clients pass as "model".</param>
/// <param name="Source">Where it comes from, for the logs.</param>
/// <param name="Load">
/// Resolves, converts if needed, and loads the model with the given intra-op threads (null: the runtime's, --threads;
/// the device governor may have asked for fewer); may take minutes the first time.
/// </param>
public sealed record ServedModel(string Id, string Source, Func<int?, LocalModel> Load)
{
    /// <summary>Bytes of weights on disk, for the mode picker's fit check before the model is loaded; null when unknown.</summary>
    public long? WeightBytes { get; init; }
}
