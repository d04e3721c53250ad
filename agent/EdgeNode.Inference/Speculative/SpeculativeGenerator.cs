using System.Diagnostics;
using EdgeNode.Inference.Generation;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Inference.Speculative;

/// <summary>What speculative generation adds to a generation's result.</summary>
public sealed record SpeculativeResult
{
    public required GenerationResult Generation { get; init; }
    public required string Drafter { get; init; }
    public int Rounds { get; init; }
    public int Proposed { get; init; }
    public int Accepted { get; init; }

    /// <summary>Verifier sessions opened again after one was lost (restart, expiry).</summary>
    public int Reopens { get; init; }

    /// <summary>Accepted drafts over proposed drafts.</summary>
    public double AcceptRate => Proposed > 0 ? (double)Accepted / Proposed : 0;

    /// <summary>Tokens emitted per verification round (1 is plain remote decoding).</summary>
    public double TokensPerRound => Rounds > 0 ? (double)(Accepted + Rounds) / Rounds : 0;

    /// <summary>Mean drafts per round.</summary>
    public double DraftLength => Rounds > 0 ? (double)Proposed / Rounds : 0;

    /// <summary>Wall time over every round, first included.</summary>
    public TimeSpan Total => Generation.Prefill + Generation.Decode;

    public double TokensPerSecond => Total.TotalSeconds > 0 ? Generation.Tokens.Length / Total.TotalSeconds : 0;
}

/// <summary>
/// The drafting side's loop: draft k tokens, send them to the verifier, keep what it accepts plus its correction or
/// bonus token, stream the text, adapt k, repeat. Stops as <see cref="TextGenerator"/> does (end of text, max tokens,
/// stop text, full context, cancellation), cutting a round's tokens at the stop. A lost verifier session is reopened
/// from the accepted history and the round sent again, a bounded number of times in a row.
/// </summary>
public sealed class SpeculativeGenerator
{
    /// <summary>Reopens in a row (with no round getting through between them) before giving up.</summary>
    public const int MaxReopensInARow = 20;

    private readonly ITextTokenizer _tokenizer;

    public SpeculativeGenerator(ITextTokenizer tokenizer) => _tokenizer = tokenizer;

    public SpeculativeResult Generate(int[] promptTokens, GenerationOptions options, IDrafter drafter, IVerifierSession verifier,
        DraftLengthController lengths, Action<string>? onText = null, CancellationToken cancellation = default, Func<int, TimeSpan>? reopenDelay = null)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        ArgumentNullException.ThrowIfNull(options);
        if (promptTokens.Length == 0)
            throw new ArgumentException("the prompt has no tokens (it must at least hold BOS)", nameof(promptTokens));
        reopenDelay ??= attempt => TimeSpan.FromMilliseconds(Math.Min(2000, 100 * (1 << Math.Min(attempt, 5))));
        var history = new List<int>(promptTokens.Length + Math.Min(options.MaxTokens, 4096) + lengths.MaxLength + 1);
        history.AddRange(promptTokens);
        var draft = new DraftBuffer(lengths.MaxLength, Math.Max(1, _tokenizer.VocabSize));
        var text = _tokenizer.CreateDecoder(promptTokens[^1]);
        var stopTexts = new StopTextFilter(options.StopTexts);
        var output = new System.Text.StringBuilder();
        var generated = new List<int>(Math.Min(options.MaxTokens, 4096));
        var stop = StopReason.MaxTokens;
        int rounds = 0, proposed = 0, accepted = 0, reopens = 0, lostInARow = 0;
        var clock = Stopwatch.StartNew();
        var capacity = OpenWithRetry(verifier, history, ref reopens, ref lostInARow, reopenDelay, cancellation);
        if (options.ContextLength > 0)
            capacity = Math.Min(capacity, options.ContextLength);
        var prefill = TimeSpan.Zero;
        var roundClock = new Stopwatch();

        while (generated.Count < options.MaxTokens)
        {
            if (cancellation.IsCancellationRequested)
            {
                stop = StopReason.Cancelled;
                break;
            }
            // The round writes the last token and k drafts into the verifier's cache; the emitted token is its k+1-th.
            var room = capacity - history.Count;
            if (room < 0)
            {
                stop = StopReason.ContextFull;
                break;
            }
            var k = Math.Min(Math.Min(lengths.Current, room), options.MaxTokens - generated.Count - 1);
            roundClock.Restart();
            drafter.Propose(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history), Math.Max(0, k), draft);
            var draftSeconds = roundClock.Elapsed.TotalSeconds;
            VerifyRound round;
            try
            {
                round = verifier.Verify(draft);
                lostInARow = 0;
            }
            catch (VerifierSessionLostException) when (!cancellation.IsCancellationRequested)
            {
                if (++lostInARow > MaxReopensInARow)
                    throw;
                reopens++;
                Thread.Sleep(reopenDelay(lostInARow - 1));
                capacity = Math.Min(OpenWithRetry(verifier, history, ref reopens, ref lostInARow, reopenDelay, cancellation), options.ContextLength > 0 ? options.ContextLength : int.MaxValue);
                continue;
            }
            var roundSeconds = roundClock.Elapsed.TotalSeconds;
            rounds++;
            proposed += draft.Count;
            accepted += round.Decision.Accepted;
            lengths.Record(draft.Count, round.Decision.Accepted, round.Decision.Examined, roundSeconds - draftSeconds, round.VerifySeconds, draftSeconds);
            if (generated.Count == 0)
                prefill = clock.Elapsed;

            var ended = false;
            for (var i = 0; i <= round.Decision.Accepted && !ended; i++)
            {
                var next = i < round.Decision.Accepted ? draft.Tokens[i] : round.Decision.Token;
                history.Add(next);
                if (_tokenizer.StopTokens.Contains(next) || options.StopTokens.Contains(next))
                {
                    stop = StopReason.EndOfText;
                    ended = true;
                    break;
                }
                generated.Add(next);
                var shown = stopTexts.Append(text.Append(next));
                if (shown.Length > 0)
                {
                    output.Append(shown);
                    onText?.Invoke(shown);
                }
                if (stopTexts.Stopped)
                {
                    stop = StopReason.StopText;
                    ended = true;
                }
                else if (generated.Count >= options.MaxTokens)
                {
                    ended = true;
                }
            }
            if (ended)
                break;
        }
        if (stop != StopReason.StopText)
        {
            var tail = stopTexts.Finish(text.Flush());
            if (stopTexts.Stopped)
                stop = StopReason.StopText;
            if (tail.Length > 0)
            {
                output.Append(tail);
                onText?.Invoke(tail);
            }
        }
        var total = clock.Elapsed;
        return new SpeculativeResult
        {
            Generation = new GenerationResult
            {
                PromptTokens = promptTokens,
                Tokens = [.. generated],
                Text = output.ToString(),
                StopReason = stop,
                Prefill = prefill,
                Decode = total - prefill,
                Seed = options.Sampling.Seed ?? 0,
            },
            Drafter = drafter.Name,
            Rounds = rounds,
            Proposed = proposed,
            Accepted = accepted,
            Reopens = reopens,
        };
    }

    private static int OpenWithRetry(IVerifierSession verifier, List<int> history, ref int reopens, ref int lostInARow, Func<int, TimeSpan> delay, CancellationToken cancellation)
    {
        while (true)
        {
            try
            {
                return verifier.Open(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            }
            catch (VerifierSessionLostException) when (!cancellation.IsCancellationRequested && lostInARow < MaxReopensInARow)
            {
                lostInARow++;
                reopens++;
                Thread.Sleep(delay(lostInARow - 1));
            }
        }
    }
}
