using EdgeNode.Inference.Speculative;

namespace EdgeNode.Verifier;

/// <summary>
/// One open session: the target model's id, the conversation's verifier (history, sampler, acceptance draws) and a
/// draft buffer reused by every round. Its KV caches live in the model's <see cref="ModelCaches"/> pool under the
/// session's id, leased for each round; one round at a time.
/// </summary>
internal sealed class VerifierSession(string id, string model, DraftVerifier verifier, DraftBuffer draft)
{
    private int _busy;

    public string Id { get; } = id;
    public string Model { get; } = model;
    public DraftVerifier Verifier { get; } = verifier;
    public DraftBuffer Draft { get; } = draft;

    /// <summary>Stopwatch ticks of the last request: the idle timeout counts from it.</summary>
    public long LastUse { get; set; }

    public bool TryEnter() => Interlocked.Exchange(ref _busy, 1) == 0;

    public void Exit() => Volatile.Write(ref _busy, 0);
}
