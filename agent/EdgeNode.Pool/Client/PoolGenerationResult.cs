using EdgeNode.Inference.Generation;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Client;

/// <summary>The outcome of one generation through a pool: what local generation reports, plus the chain that served it.</summary>
public sealed record PoolGenerationResult
{
    public required int[] PromptTokens { get; init; }
    public required int[] Tokens { get; init; }
    public required string Text { get; init; }
    public required StopReason StopReason { get; init; }

    /// <summary>The entry node's time from the Open to the first sampled token (the prompt's one trip round the ring).</summary>
    public required TimeSpan Prefill { get; init; }

    /// <summary>The entry node's time from the first sampled token to the last.</summary>
    public required TimeSpan Decode { get; init; }

    /// <summary>Seen by the client: from sending the Open to the first token arriving.</summary>
    public required TimeSpan TimeToFirstToken { get; init; }

    public required ulong Seed { get; init; }
    public required string Model { get; init; }
    public required long Epoch { get; init; }

    /// <summary>The hidden-state encoding used between the nodes (e.g. int8+zstd).</summary>
    public required string Encoding { get; init; }

    /// <summary>The chain in order: each node and the slice it ran.</summary>
    public required IReadOnlyList<ChainHop> Hops { get; init; }

    public double PrefillTokensPerSecond => Prefill.TotalSeconds > 0 ? PromptTokens.Length / Prefill.TotalSeconds : 0;

    /// <summary>Tokens per second over the decode steps (the first token comes from the prefill and is not counted).</summary>
    public double DecodeTokensPerSecond => Decode.TotalSeconds > 0 && Tokens.Length > 1 ? (Tokens.Length - 1) / Decode.TotalSeconds : 0;
}
