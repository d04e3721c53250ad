namespace EdgeNode.Inference.Speculative;

/// <summary>
/// Proposes the next few tokens of a conversation cheaply, for a (remote or local) target to verify in one pass.
/// A drafter is told the whole accepted history each round and brings its own state in line with it (a model
/// drafter rolls its KV cache back to the longest common prefix), so a rejected draft, a correction token or a
/// reopened verifier session needs no separate call.
/// </summary>
public interface IDrafter : IDisposable
{
    /// <summary>What the reports call it: "model:stories260K", "ngram", "self-int4", "oracle(0.8)".</summary>
    string Name { get; }

    /// <summary>
    /// Proposes up to <paramref name="maxTokens"/> tokens after <paramref name="history"/> into <paramref name="draft"/>
    /// (cleared first). May propose fewer, or none (then the round is a plain decode step).
    /// </summary>
    void Propose(ReadOnlySpan<int> history, int maxTokens, DraftBuffer draft);
}
