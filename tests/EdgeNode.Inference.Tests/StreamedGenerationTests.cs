using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// What a caller streaming from the real stories260K model sees: never a stop text or a piece of one, and
/// always exactly the result's Text, however generation ends.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class StreamedGenerationTests(ConvertedModels models)
{
    private const string Prompt = "Once upon a time";

    [Fact]
    public void AStopTextSplitOverSeveralTokensIsNeverStreamed()
    {
        using var local = Load();
        var generator = new TextGenerator(local);
        var (pieces, full) = Baseline(generator, 60);
        var (stopText, start) = SpanningStop(pieces, suffix: "");

        var streamed = new List<string>();
        var result = generator.Generate(Prompt, Greedy(60, stopText), streamed.Add);

        Assert.Equal(StopReason.StopText, result.StopReason);
        Assert.Equal(full[..start], string.Concat(streamed));
        Assert.Equal(full[..start], result.Text);
    }

    [Fact]
    public void AStopTextThatMatchesInPartThenDivergesIsReleasedIntact()
    {
        using var local = Load();
        var generator = new TextGenerator(local);
        var (pieces, full) = Baseline(generator, 60);
        // The start of real text over three tokens, then a character the model never writes.
        var (stopText, _) = SpanningStop(pieces, suffix: "\u0007");

        var streamed = new List<string>();
        var result = generator.Generate(Prompt, Greedy(60, stopText), streamed.Add);

        Assert.Equal(StopReason.MaxTokens, result.StopReason);
        Assert.Equal(full, string.Concat(streamed));
        Assert.Equal(full, result.Text);
        // It was held back for a while (pieces were joined), not streamed as it came.
        Assert.True(streamed.Count < pieces.Count, $"{streamed.Count} pieces streamed for {pieces.Count} tokens: nothing was held back");
    }

    [Fact]
    public void AFullContextEndsCleanlyWithItsReason()
    {
        using var local = Load();
        var generator = new TextGenerator(local);
        var (pieces, full) = Baseline(generator, 60);
        var prompt = local.Tokenizer.Encode(Prompt);
        const int Context = 16;

        var streamed = new List<string>();
        var result = generator.Generate(Prompt, Greedy(60, " \u0007") with { ContextLength = Context }, streamed.Add);

        Assert.Equal(StopReason.ContextFull, result.StopReason);
        // Every position is used; the last token is sampled from the last position and not fed back.
        Assert.Equal(Context - prompt.Length + 1, result.Tokens.Length);
        Assert.Equal(string.Concat(pieces.Take(result.Tokens.Length)), result.Text);
        Assert.Equal(result.Text, string.Concat(streamed));
        Assert.StartsWith(result.Text, full, StringComparison.Ordinal);
    }

    [Fact]
    public void CancellationEndsCleanlyWithWhatWasGenerated()
    {
        using var local = Load();
        var generator = new TextGenerator(local);
        var (pieces, full) = Baseline(generator, 60);
        var enough = string.Concat(pieces.Take(8)).Length;
        using var cancel = new CancellationTokenSource();
        var streamed = new List<string>();

        // A space may begin the stop text, so a held space is pending when the cancel lands.
        var result = generator.Generate(Prompt, Greedy(60, " \u0007"), piece =>
        {
            streamed.Add(piece);
            if (string.Concat(streamed).Length >= enough)
                cancel.Cancel();
        }, cancel.Token);

        Assert.Equal(StopReason.Cancelled, result.StopReason);
        Assert.InRange(result.Tokens.Length, 8, 9);
        Assert.Equal(string.Concat(pieces.Take(result.Tokens.Length)), result.Text);
        Assert.Equal(result.Text, string.Concat(streamed));
        Assert.StartsWith(result.Text, full, StringComparison.Ordinal);
    }

    private LocalModel Load()
    {
        var (_, _, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == "stories260K");
        return LocalModel.Load(models.Runtime, models.Folder("stories260K", WeightPrecision.Fp32), tokenizer);
    }

    private static GenerationOptions Greedy(int maxTokens, string stopText) =>
        new() { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy, StopTexts = stopText.Length == 0 ? [] : [stopText] };

    /// <summary>The greedy text without stop texts, one streamed piece per token.</summary>
    private static (List<string> Pieces, string Full) Baseline(TextGenerator generator, int maxTokens)
    {
        var pieces = new List<string>();
        var result = generator.Generate(Prompt, Greedy(maxTokens, ""), pieces.Add);
        Assert.Equal(StopReason.MaxTokens, result.StopReason);
        Assert.Equal(result.Tokens.Length, pieces.Count);
        Assert.All(pieces, piece => Assert.NotEmpty(piece));
        return (pieces, result.Text);
    }

    /// <summary>
    /// A stop text that starts inside one token's piece and ends inside the second piece after it, and
    /// whose first appearance is there; <paramref name="suffix"/> is appended to it.
    /// </summary>
    private static (string Stop, int Start) SpanningStop(List<string> pieces, string suffix)
    {
        var full = string.Concat(pieces);
        var offset = 0;
        for (var i = 0; i + 2 < pieces.Count; offset += pieces[i].Length, i++)
        {
            if (i < 10 || pieces[i].Length < 2)
                continue;
            var start = offset + pieces[i].Length - 2;
            var stop = pieces[i][^2..] + pieces[i + 1] + pieces[i + 2][..1];
            if (full.IndexOf(stop, StringComparison.Ordinal) == start)
                return (stop + suffix, start);
        }
        throw new InvalidOperationException("the greedy text has no stop text spanning three tokens");
    }
}
