using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Inference.Evaluation;

/// <summary>Perplexity of a model on a text, and the numbers behind it.</summary>
/// <param name="TopTokens">The model's most likely next token at every scored position, in text order.</param>
public sealed record PerplexityResult(double Perplexity, double MeanNegativeLogLikelihood, int ScoredTokens, int Windows, int[] TopTokens)
{
    /// <summary>
    /// Teacher-forced greedy agreement: the share of positions where this model's top token equals
    /// <paramref name="reference"/>'s (both scored on the same text and windows). Unlike free-running greedy text, one
    /// early divergence does not decide every later position.
    /// </summary>
    public double TopOneAgreement(PerplexityResult reference)
    {
        if (reference.TopTokens.Length != TopTokens.Length)
            throw new ArgumentException($"the two evaluations scored {TopTokens.Length} and {reference.TopTokens.Length} positions; evaluate both on the same text and window");
        var same = 0;
        for (var i = 0; i < TopTokens.Length; i++)
        {
            if (TopTokens[i] == reference.TopTokens[i])
                same++;
        }
        return TopTokens.Length == 0 ? 0 : (double)same / TopTokens.Length;
    }
}

/// <summary>
/// Teacher-forced perplexity: the text is cut into windows that fit the context, each window starts the
/// way the tokenizer starts a text and is run in one call that returns the logits of every position, and each next token is scored
/// with log-softmax in double precision. Windows do not overlap, so every token is scored once.
/// </summary>
public static class PerplexityEvaluator
{
    public static PerplexityResult Evaluate(LocalModel model, string text, int window = 0)
    {
        var tokens = model.Tokenizer.Encode(text, addSpecialTokens: false);
        // Each window starts the way the family starts a text (BOS for Llama-family tokenizers); a family
        // with no start token uses the window's first token as context and does not score it.
        var start = model.Tokenizer.Encode(string.Empty, addSpecialTokens: true);
        if (tokens.Length < 2)
            throw new ArgumentException("the evaluation text needs at least two tokens");
        var context = window > 0 ? Math.Min(window, model.Config.MaxSeqLen) : model.Config.MaxSeqLen;
        var prefix = start.Length > 0 ? start[..1] : [];
        var span = context - prefix.Length;
        var vocab = model.Config.VocabSize;
        double nll = 0;
        var scored = 0;
        var top = new List<int>(tokens.Length);
        var windows = 0;
        for (var offset = 0; offset < tokens.Length; offset += span)
        {
            var count = Math.Min(span, tokens.Length - offset);
            if (count + prefix.Length < 2)
                break;
            var input = new int[count + prefix.Length];
            prefix.CopyTo(input, 0);
            Array.Copy(tokens, offset, input, prefix.Length, count);
            using var state = model.CreateState(input.Length);
            // Logits at position p predict input[p + 1]; the last position predicts nothing in this window.
            var logits = model.Forward(input.AsSpan(0, input.Length - 1), state, allPositions: true);
            for (var p = 0; p < input.Length - 1; p++)
            {
                var row = logits.Slice(p * vocab, vocab);
                nll -= LogSoftmaxAt(row, input[p + 1]);
                top.Add(TokenSampler.ArgMax(row));
                scored++;
            }
            windows++;
        }
        var mean = nll / scored;
        return new PerplexityResult(Math.Exp(mean), mean, scored, windows, [.. top]);
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int target)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits)
            max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits)
            sum += Math.Exp(v - max);
        return logits[target] - max - Math.Log(sum);
    }
}
