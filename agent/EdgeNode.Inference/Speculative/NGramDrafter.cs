namespace EdgeNode.Inference.Speculative;

/// <summary>
/// Draftless drafting (prompt lookup): finds the latest earlier place where the history's last n tokens occurred
/// (n from <see cref="MaxNgram"/> down to 1) and proposes what followed there. Free to run and good wherever text
/// repeats (code, quotes, summaries of the prompt, the refrains of children's stories); proposes nothing where
/// no n-gram matches, and the round is then a plain decode step. Its proposals are deterministic (q one-hot).
/// </summary>
public sealed class NGramDrafter : IDrafter
{
    /// <summary>How far back a match is searched: bounds the work per round on long contexts.</summary>
    public const int SearchWindow = 2048;

    public NGramDrafter(int maxNgram = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNgram, 1);
        MaxNgram = maxNgram;
    }

    public int MaxNgram { get; }

    public string Name => "ngram";

    public void Propose(ReadOnlySpan<int> history, int maxTokens, DraftBuffer draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        draft.Clear();
        maxTokens = Math.Min(maxTokens, draft.MaxTokens);
        if (maxTokens <= 0)
            return;
        var window = history.Length > SearchWindow ? history[^SearchWindow..] : history;
        for (var n = Math.Min(MaxNgram, window.Length - 1); n >= 1; n--)
        {
            var suffix = window[^n..];
            // The latest earlier occurrence: recent text predicts the next tokens best.
            for (var start = window.Length - n - 1; start >= 0; start--)
            {
                if (!window.Slice(start, n).SequenceEqual(suffix))
                    continue;
                var follow = window.Slice(start + n, Math.Min(maxTokens, window.Length - start - n));
                foreach (var token in follow)
                    draft.Add(token);
                return;
            }
        }
    }

    public void Dispose()
    {
    }
}
