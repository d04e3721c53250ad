namespace EdgeNode.Inference.Speculative;

/// <summary>
/// Benchmark only: proposes k placeholder tokens at no cost, for a verifier session opened with a simulated acceptance
/// α (the verifier keeps each with probability α). Together they give the speed curve over α, k and the round trip at
/// realistic shapes, where only random weights exist. Why not <see cref="OracleDrafter"/> there: with random weights the
/// top two logits are often closer than the last bits by which a (k+1)-position pass and a one-position pass differ,
/// so the target's greedy tokens under verification drift from a one-token-at-a-time reference within a few tokens
/// (measured: 4–9% of an α 0.5–0.9 oracle's drafts kept at the shape of TinyLlama-1.1B int4), and the oracle stops
/// knowing the target's next token. Real models' logit gaps are far wider: there the oracle is exact (tested).
/// </summary>
public sealed class PlaceholderDrafter(double alpha) : IDrafter
{
    /// <summary>The acceptance the verifier session simulates (for the report's name only).</summary>
    public double Alpha { get; } = alpha;

    public string Name => $"α={Alpha:0.##}";

    public void Propose(ReadOnlySpan<int> history, int maxTokens, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        draft.Clear();
        var token = history.IsEmpty ? 0 : history[^1];
        for (var i = 0; i < Math.Min(maxTokens, draft.MaxTokens); i++)
            draft.Add(token);
    }

    public void Dispose()
    {
    }
}
