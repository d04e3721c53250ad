using System.Text.Json;

namespace EdgeNode.Models.Chat;

/// <summary>The chat formats by name, and recognition of a model's format from its published Jinja template.</summary>
public static class ChatTemplates
{
    private static readonly ChatTemplate[] All =
    [
        new Llama2ChatTemplate(),
        new MistralChatTemplate(),
        new Llama3ChatTemplate(),
        new ChatMlTemplate(),
        new Qwen3ChatTemplate(),
        new GemmaChatTemplate(),
        new ZephyrChatTemplate(),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(t => t.Name)];

    public static ChatTemplate Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Array.Find(All, t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ChatTemplateException($"unknown chat template '{name}'; known: {string.Join(", ", Names)}");
    }

    /// <summary>
    /// The format a tokenizer_config.json "chat_template" text renders, from the markers it writes; null when it
    /// is none of the known ones.
    /// </summary>
    public static string? Detect(string jinjaTemplate)
    {
        ArgumentNullException.ThrowIfNull(jinjaTemplate);
        bool Has(string marker) => jinjaTemplate.Contains(marker, StringComparison.Ordinal);
        // Llama-3.1 and later write a dated system header into every prompt, which the llama3 format does not:
        // such models need --chat-template chosen knowingly rather than a silent near match.
        if (Has("<|start_header_id|>"))
            return Has("Cutting Knowledge Date") ? null : "llama3";
        if (Has("<|im_start|>"))
            return Has("<think>") || Has("enable_thinking") ? "qwen3" : "chatml";
        if (Has("<start_of_turn>"))
            return "gemma";
        // Phi-3 writes the same role markers but ends turns with its own <|end|> token.
        if (Has("<|user|>") && Has("<|assistant|>") && Has("eos_token") && !Has("<|end|>"))
            return "zephyr";
        if (Has("<<SYS>>"))
            return "llama2";
        if (Has("[INST]"))
            return "mistral";
        return null;
    }

    /// <summary>
    /// The format of the "chat_template" in a tokenizer_config.json (a string, or a list of named templates whose
    /// "default" is used); null when the file has none or it is not a known format.
    /// </summary>
    public static string? DetectInTokenizerConfig(string tokenizerConfigPath)
    {
        ArgumentNullException.ThrowIfNull(tokenizerConfigPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(tokenizerConfigPath), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{tokenizerConfigPath}: not valid JSON ({e.Message}); fetch it again", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("chat_template", out var template))
                return null;
            if (template.ValueKind == JsonValueKind.String)
                return Detect(template.GetString()!);
            if (template.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in template.EnumerateArray())
                {
                    if (entry.ValueKind == JsonValueKind.Object
                        && entry.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == "default"
                        && entry.TryGetProperty("template", out var text) && text.ValueKind == JsonValueKind.String)
                        return Detect(text.GetString()!);
                }
            }
            return null;
        }
    }
}
