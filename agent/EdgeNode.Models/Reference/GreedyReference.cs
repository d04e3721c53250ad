namespace EdgeNode.Models.Reference;

/// <summary>Greedy (temperature 0) generation with llama2.c run.c's loop, the semantics golden.json records.</summary>
public static class GreedyReference
{
    /// <summary>
    /// Feeds the prompt, then picks the arg-max token until the next token would be BOS or the position reaches
    /// <paramref name="steps"/> (capped at the model's context, as run.c does). Returns only the generated tokens.
    /// </summary>
    public static int[] Generate(ReferenceTransformer model, int[] promptTokens, int steps)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Length == 0)
            throw new ArgumentException("the prompt needs at least one token (BOS)", nameof(promptTokens));
        if (steps <= 0 || steps > model.MaxSeqLen)
            steps = model.MaxSeqLen;

        model.Reset();
        var generated = new List<int>(steps);
        var token = promptTokens[0];
        for (var position = 0; position < steps; position++)
        {
            var logits = model.Forward(token, position);
            // While still inside the prompt the next token is forced; after it, take the arg-max.
            var next = position < promptTokens.Length - 1 ? promptTokens[position + 1] : ArgMax(logits);
            if (next == Tokenizers.Llama2cTokenizer.Bos)
                break;
            if (position >= promptTokens.Length - 1)
                generated.Add(next);
            token = next;
        }
        return [.. generated];
    }

    /// <summary>The index of the largest value; the first one on ties, like run.c's sample_argmax.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
                best = i;
        }
        return best;
    }
}
