using EdgeNode.Inference.Sampling;

namespace EdgeNode.Inference.Generation;

/// <summary>What one generation request asks for. Every default is the CLI's.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate after the prompt. Default 256.</summary>
    public int MaxTokens { get; init; } = 256;

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>
    /// Stop when the generated text contains one of these. Neither the stop text nor any part of it is
    /// streamed or kept in the result; empty strings are ignored.
    /// </summary>
    public IReadOnlyList<string> StopTexts { get; init; } = [];

    /// <summary>Ids that also end generation, besides the tokenizer's end-of-text (a chat format's end of turn).</summary>
    public IReadOnlySet<int> StopTokens { get; init; } = new HashSet<int>();

    /// <summary>
    /// Positions the conversation may hold (prompt + generated); 0 = the model's context length. Above the model's
    /// context is an error, not a silent cut.
    /// </summary>
    public int ContextLength { get; init; }
}

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary>The model produced BOS, EOS or one of the options' stop tokens.</summary>
    EndOfText,

    /// <summary>MaxTokens were generated.</summary>
    MaxTokens,

    /// <summary>A stop text appeared.</summary>
    StopText,

    /// <summary>The context (KV cache capacity) is full.</summary>
    ContextFull,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>The outcome of one generation, with the timings the CLI and the bench report.</summary>
public sealed record GenerationResult
{
    public required int[] PromptTokens { get; init; }
    public required int[] Tokens { get; init; }
    public required string Text { get; init; }
    public required StopReason StopReason { get; init; }

    /// <summary>Wall time of the prompt's single prefill run, including its first sampled token.</summary>
    public required TimeSpan Prefill { get; init; }

    /// <summary>Wall time of every decode step after the first token.</summary>
    public required TimeSpan Decode { get; init; }

    public double PrefillTokensPerSecond => Prefill.TotalSeconds > 0 ? PromptTokens.Length / Prefill.TotalSeconds : 0;

    /// <summary>Tokens per second over the decode steps (the first token comes from the prefill and is not counted).</summary>
    public double DecodeTokensPerSecond => Decode.TotalSeconds > 0 && Tokens.Length > 1 ? (Tokens.Length - 1) / Decode.TotalSeconds : 0;

    public required ulong Seed { get; init; }
}
