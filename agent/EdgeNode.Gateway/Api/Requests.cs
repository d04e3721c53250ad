using System.Text.Json;

namespace EdgeNode.Gateway.Api;

/// <summary>The fields of POST /v1/completions this node reads. Fields it does not read are ignored, as OpenAI's own do when they do not apply.</summary>
public sealed class CompletionRequest
{
    public string? Model { get; set; }

    /// <summary>A string, or an array holding one string.</summary>
    public JsonElement? Prompt { get; set; }

    public int? MaxTokens { get; set; }
    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public long? Seed { get; set; }

    /// <summary>A string or an array of up to four strings.</summary>
    public JsonElement? Stop { get; set; }

    public int? N { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
}

/// <summary>The fields of POST /v1/chat/completions this node reads.</summary>
public sealed class ChatCompletionRequest
{
    public string? Model { get; set; }
    public List<ChatMessageInput>? Messages { get; set; }
    public int? MaxTokens { get; set; }

    /// <summary>The newer name of max_tokens; wins when both are given.</summary>
    public int? MaxCompletionTokens { get; set; }

    public float? Temperature { get; set; }
    public float? TopP { get; set; }
    public long? Seed { get; set; }
    public JsonElement? Stop { get; set; }
    public int? N { get; set; }
    public bool? Stream { get; set; }
    public StreamOptions? StreamOptions { get; set; }
}

public sealed class ChatMessageInput
{
    public string? Role { get; set; }

    /// <summary>A string, or an array of content parts of which the "text" ones are read.</summary>
    public JsonElement? Content { get; set; }
}

public sealed class StreamOptions
{
    /// <summary>Send a last chunk with the usage counts and no choices.</summary>
    public bool? IncludeUsage { get; set; }
}
