using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>Reads the fields of tokenizer.json components, failing with the component and field named.</summary>
internal static class TokenizerJson
{
    public static string RequiredString(JsonElement element, string name, string component)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
            return value.GetString()!;
        throw new ModelFormatException($"tokenizer.json: the {component} has no string field \"{name}\"; the file is malformed or from an unsupported version");
    }

    public static string? OptionalString(JsonElement element, string name)
    {
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
    }

    public static bool OptionalBool(JsonElement element, string name, bool fallback)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
            return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => fallback,
        };
    }

    public static int OptionalInt(JsonElement element, string name, int fallback)
    {
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetInt32()
            : fallback;
    }

    public static JsonElement.ArrayEnumerator RequiredArray(JsonElement element, string name, string component)
    {
        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array)
            return value.EnumerateArray();
        throw new ModelFormatException($"tokenizer.json: the {component} has no array field \"{name}\"; the file is malformed or from an unsupported version");
    }

    public static JsonElement Property(JsonElement element, string name)
    {
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;
    }

    /// <summary>
    /// A component's "pattern": {"String": literal} or {"Regex": Oniguruma pattern}, as a function replacing every
    /// occurrence in a text by a given content.
    /// </summary>
    public static Func<string, string, string> ParseReplacePattern(JsonElement element, string component)
    {
        var pattern = Property(element, "pattern");
        if (OptionalString(pattern, "String") is { } literal)
            return (text, content) => literal.Length == 0 ? text : text.Replace(literal, content, StringComparison.Ordinal);
        if (OptionalString(pattern, "Regex") is { } regexPattern)
        {
            var regex = new Regex(SplitPattern.Translate(regexPattern), RegexOptions.CultureInvariant);
            return (text, content) => regex.Replace(text, content.Replace("$", "$$", StringComparison.Ordinal));
        }
        throw new ModelFormatException($"tokenizer.json: the {component} has no \"pattern\" with a \"String\" or \"Regex\"; the file is malformed");
    }
}
