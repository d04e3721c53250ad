using System.Text.Json.Serialization;

namespace EdgeNode.Gateway.Api;

public sealed class ModelList
{
    public string Object => "list";
    public required List<ModelCard> Data { get; init; }
}

public sealed class ModelCard
{
    public required string Id { get; init; }
    public string Object => "model";
    public required long Created { get; init; }
    public string OwnedBy => "edgenode";
}

public sealed class Usage
{
    public required int PromptTokens { get; init; }
    public required int CompletionTokens { get; init; }
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>How the request was served (local, pool, speculative, async); the OpenAI clients pass unknown usage fields through.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EdgenodeMode { get; init; }
}

public sealed class Completion
{
    public required string Id { get; init; }

    /// <summary>The serving node's signed receipt for this answer (also in the EdgeNode-Receipt header); null when credits are off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EdgenodeReceipt { get; init; }
    public string Object => "text_completion";
    public required long Created { get; init; }
    public required string Model { get; init; }
    public required List<CompletionChoice> Choices { get; init; }
    public required Usage Usage { get; init; }
}

public sealed class CompletionChoice
{
    public required string Text { get; init; }
    public int Index { get; init; }
    public string? Logprobs => null;
    public required string FinishReason { get; init; }
}

public sealed class ChatCompletion
{
    public required string Id { get; init; }

    /// <summary>The serving node's signed receipt for this answer (also in the EdgeNode-Receipt header); null when credits are off.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EdgenodeReceipt { get; init; }
    public string Object => "chat.completion";
    public required long Created { get; init; }
    public required string Model { get; init; }
    public required List<ChatChoice> Choices { get; init; }
    public required Usage Usage { get; init; }
}

public sealed class ChatChoice
{
    public int Index { get; init; }
    public required ChatMessageOutput Message { get; init; }
    public string? Logprobs => null;
    public required string FinishReason { get; init; }
}

public sealed class ChatMessageOutput
{
    public string Role => "assistant";
    public required string Content { get; init; }
}
