using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Client;

/// <summary>How a <see cref="PoolVerifierSession"/> asks the pool to verify: the target's sampling, the hop encoding, the limits.</summary>
public sealed record PoolVerifierOptions
{
    /// <summary>The target's sampling: greedy keeps the target's exact tokens; otherwise rejection sampling keeps its distribution.</summary>
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;

    public HiddenEncoding Encoding { get; init; } = HiddenEncoding.Fp16;
    public bool Zstd { get; init; }

    /// <summary>Positions the session may hold; 0 = the model's context length.</summary>
    public int ContextLength { get; init; }

    /// <summary>The most drafts a round carries (1..<see cref="DataPlaneLimits.MaxDraftTokens"/>).</summary>
    public int MaxDraft { get; init; } = DataPlaneLimits.MaxDraftTokens;

    /// <summary>The drafting side's tokenizer fingerprint; the entry refuses a session whose tokenizer differs from the model's. Null: not checked.</summary>
    public string? Tokenizer { get; init; }

    /// <summary>Benchmark only: the last node keeps each draft with this probability (the output is then not the target's).</summary>
    public double? BenchmarkAcceptance { get; init; }

    /// <summary>Longest wait for an answer from the entry (the open, a round's verdict) before the session counts as lost.</summary>
    public TimeSpan ReplyDeadline { get; init; } = TimeSpan.FromSeconds(60);
}
