using System.Text.Json.Serialization;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// The payload of the <see cref="FrameType.Open"/> a client sends to the entry node: what to generate and how. JSON
/// (once per session, so readable beats compact); fields a version does not know are ignored.
/// </summary>
public sealed class SessionOpenRequest
{
    /// <summary>The prompt as text, which the entry node encodes; ignored when <see cref="PromptTokens"/> is given.</summary>
    public string Prompt { get; set; } = "";

    /// <summary>
    /// The prompt already encoded with the model's tokenizer, for a client that rendered it itself (a chat format with
    /// special tokens, which text cannot carry); each id must be inside the vocabulary.
    /// </summary>
    public int[]? PromptTokens { get; set; }

    /// <summary>Ids that end the generation besides the tokenizer's own end of text (a chat format's end of turn).</summary>
    public int[]? StopTokens { get; set; }

    public int MaxTokens { get; set; } = 256;
    public float Temperature { get; set; } = 0.8f;
    public int TopK { get; set; } = 40;
    public float TopP { get; set; } = 0.95f;
    public float RepetitionPenalty { get; set; } = 1.0f;
    public int RepetitionWindow { get; set; } = 64;

    /// <summary>null: the entry node draws one and reports it in the summary.</summary>
    public ulong? Seed { get; set; }

    public List<string> StopTexts { get; set; } = [];

    /// <summary>Hidden-state encoding between the chain's nodes: fp32, fp16, int8, each optionally +zstd.</summary>
    public string Encoding { get; set; } = "fp16";

    /// <summary>Positions the session may hold (prompt + generated); 0 = the model's context length.</summary>
    public int ContextLength { get; set; }
}

/// <summary>
/// The payload of the <see cref="FrameType.Open"/> that travels from node to node: what every node of the chain needs
/// to hold the session (its KV cache size) and what the last one needs to sample (sampling options, the prompt's
/// token ids for the repetition window, how much of the vocabulary names text).
/// </summary>
public sealed class ChainOpenRequest
{
    public HiddenEncoding Encoding { get; set; }
    public bool Zstd { get; set; }
    public int Capacity { get; set; }
    public float Temperature { get; set; }
    public int TopK { get; set; }
    public float TopP { get; set; }
    public float RepetitionPenalty { get; set; }
    public int RepetitionWindow { get; set; }
    public ulong Seed { get; set; }
    public int[] PromptTokens { get; set; } = [];

    /// <summary>Logits past this index are never sampled (embedding rows beyond the tokenizer's vocabulary).</summary>
    public int SampledVocabulary { get; set; }
}

/// <summary>One hop of the chain that served a session, as the summary reports it.</summary>
public sealed class ChainHop
{
    public string NodeId { get; set; } = "";
    public string Endpoint { get; set; } = "";
    public int FirstLayer { get; set; }
    public int EndLayer { get; set; }
    public bool Embed { get; set; }
    public bool Head { get; set; }
}

/// <summary>The payload of the <see cref="FrameType.End"/> the entry node sends its client: the session's outcome.</summary>
public sealed class SessionSummary
{
    /// <summary>A <c>StopReason</c> name: EndOfText, MaxTokens, StopText, ContextFull, Cancelled.</summary>
    public string StopReason { get; set; } = "";
    public int[] PromptTokens { get; set; } = [];
    public int[] Tokens { get; set; } = [];

    /// <summary>Text released only at the end (held back in case it began a stop text, or an unfinished character).</summary>
    public string TrailingText { get; set; } = "";

    /// <summary>From the entry receiving the Open to the first sampled token coming back.</summary>
    public double PrefillMs { get; set; }

    /// <summary>From the first sampled token to the last.</summary>
    public double DecodeMs { get; set; }
    public ulong Seed { get; set; }
    public string Model { get; set; } = "";
    public long Epoch { get; set; }
    public string Encoding { get; set; } = "";
    public List<ChainHop> Hops { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SessionOpenRequest))]
[JsonSerializable(typeof(ChainOpenRequest))]
[JsonSerializable(typeof(SessionSummary))]
internal sealed partial class DataPlaneJsonContext : JsonSerializerContext;
