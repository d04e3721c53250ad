using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Tokenizers;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Chain;

/// <summary>
/// One session as one node holds it: the KV caches of the node's layers (they stay here for the session's life:
/// sticky), where its frames come from, and, by role, the sampler (last node) or the coordinator's state (entry).
/// Touched only by the node's worker.
/// </summary>
internal sealed class ChainSession(ulong id, FrameConnection upstream, KvCache[] caches, HiddenEncoding encoding, bool zstd, int capacity) : IDisposable
{
    public ulong Id { get; } = id;

    /// <summary>Where the session's Open came from: the client (entry) or the previous node. Errors go back this way.</summary>
    public FrameConnection Upstream { get; } = upstream;

    public KvCache[] Caches { get; } = caches;
    public HiddenEncoding Encoding { get; } = encoding;
    public bool Zstd { get; } = zstd;
    public int Capacity { get; } = capacity;

    /// <summary>Positions this node has run for the session (the next frame must start here).</summary>
    public int Position { get; set; }

    /// <summary>Sampled tokens so far (the step a frame carries).</summary>
    public int Step { get; set; }

    // The last node's part.
    public TokenSampler? Sampler { get; init; }
    public List<int>? History { get; init; }
    public int SampledVocabulary { get; init; }

    // The entry's part.
    public EntryState? Entry { get; init; }

    /// <summary>Set for a verifier session (speculative rounds instead of sampled steps), on every node.</summary>
    public VerifyState? Verify { get; init; }

    public void Dispose()
    {
        foreach (var cache in Caches) cache.Dispose();
    }
}

/// <summary>What the entry node keeps of a session it coordinates: the token history (enough to rebuild the chain by replay), text and stop state, timing.</summary>
internal sealed class EntryState
{
    public required int[] PromptTokens { get; init; }
    public required List<int> Generated { get; init; }
    public required ITokenTextDecoder Decoder { get; init; }
    public required StopTextFilter StopTexts { get; init; }
    public required IReadOnlySet<int> StopTokens { get; init; }
    public required int MaxTokens { get; init; }
    public required ulong Seed { get; init; }
    public required string EncodingName { get; init; }
    /// <summary>Stopwatch timestamps: the Open's arrival and the first sampled token's.</summary>
    public long OpenedTimestamp { get; init; }
    public long FirstTokenTimestamp { get; set; }

    /// <summary>A step is on its way round the ring: its token has not come back yet.</summary>
    public bool AwaitingToken { get; set; }

    public long StepStartedTicks { get; set; }

    /// <summary>The client asked to stop while a step was out: the session ends when its token comes back.</summary>
    public bool Cancelled { get; set; }
}
