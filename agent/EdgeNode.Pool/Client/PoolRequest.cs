using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Client;

/// <summary>One generation asked of a pool: the same options as local generation, plus how hidden states travel.</summary>
public sealed record PoolRequest
{
    /// <summary>The prompt as text; the entry node encodes it. Set this or <see cref="PromptTokens"/>.</summary>
    public string Prompt { get; init; } = "";

    /// <summary>The prompt already encoded with the model's tokenizer (a rendered chat); when set, <see cref="Prompt"/> is not used.</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }

    /// <summary>Ids that end the generation besides end of text, e.g. a chat format's end of turn.</summary>
    public IReadOnlyCollection<int> StopTokens { get; init; } = [];

    /// <summary>Most tokens to generate after the prompt. Default 256.</summary>
    public int MaxTokens { get; init; } = 256;

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Stop when the text contains one of these (not streamed, not kept).</summary>
    public IReadOnlyList<string> StopTexts { get; init; } = [];

    /// <summary>Hidden-state encoding between the chain's nodes. Default fp16: half the bytes of fp32, greedy output nearly always the same.</summary>
    public HiddenEncoding Encoding { get; init; } = HiddenEncoding.Fp16;

    /// <summary>Compress hidden states with zstd on every hop.</summary>
    public bool Zstd { get; init; }

    /// <summary>Positions the session may hold (prompt + generated); 0 = the model's context length.</summary>
    public int ContextLength { get; init; }

    internal SessionOpenRequest ToOpenRequest() => new()
    {
        Prompt = Prompt,
        PromptTokens = PromptTokens is null ? null : [.. PromptTokens],
        StopTokens = StopTokens.Count == 0 ? null : [.. StopTokens],
        MaxTokens = MaxTokens,
        Temperature = Sampling.Temperature,
        TopK = Sampling.TopK,
        TopP = Sampling.TopP,
        RepetitionPenalty = Sampling.RepetitionPenalty,
        RepetitionWindow = Sampling.RepetitionWindow,
        Seed = Sampling.Seed,
        StopTexts = [.. StopTexts],
        Encoding = HiddenEncodingNames.ToName(Encoding, Zstd),
        ContextLength = ContextLength,
    };
}

/// <summary>A token as it arrives, with the text it released (often the token's own text, sometimes "" while a stop text might be starting).</summary>
public readonly record struct PoolPiece(int Token, string Text);
