using System.Text;
using System.Text.Json;
using EdgeNode.Models.Tokenizers.Unicode;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// The tokenizer.json "normalizer": text rewrites applied to each stretch of input between added tokens, before
/// pre-tokenization (SentencePiece-style files turn spaces into ▁ and prepend one here).
/// </summary>
internal sealed class Normalizer
{
    private readonly Func<string, string>[] _steps;

    private Normalizer(Func<string, string>[] steps) => _steps = steps;

    public string Apply(string text)
    {
        foreach (var step in _steps)
            text = step(text);
        return text;
    }

    /// <summary>Reads the "normalizer" object; null (no normalizer) gives null.</summary>
    public static Normalizer? Parse(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Null)
            return null;
        var steps = new List<Func<string, string>>();
        AddSteps(element, steps);
        return new Normalizer([.. steps]);
    }

    private static void AddSteps(JsonElement element, List<Func<string, string>> steps)
    {
        var type = TokenizerJson.RequiredString(element, "type", "normalizer");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in TokenizerJson.RequiredArray(element, "normalizers", "Sequence normalizer"))
                    AddSteps(inner, steps);
                break;
            case "NFC":
                steps.Add(static text => UnicodeNormalizer.Normalize(text, NormalizationForm.FormC));
                break;
            case "NFD":
                steps.Add(static text => UnicodeNormalizer.Normalize(text, NormalizationForm.FormD));
                break;
            case "NFKC":
                steps.Add(static text => UnicodeNormalizer.Normalize(text, NormalizationForm.FormKC));
                break;
            case "NFKD":
                steps.Add(static text => UnicodeNormalizer.Normalize(text, NormalizationForm.FormKD));
                break;
            case "Lowercase":
                steps.Add(static text => text.ToLowerInvariant());
                break;
            case "Prepend":
            {
                var prefix = TokenizerJson.RequiredString(element, "prepend", "Prepend normalizer");
                // The Rust crate leaves an empty string empty: no lone ▁ for empty input.
                steps.Add(text => text.Length == 0 ? text : prefix + text);
                break;
            }
            case "Replace":
            {
                var content = TokenizerJson.RequiredString(element, "content", "Replace normalizer");
                var replace = TokenizerJson.ParseReplacePattern(element, "Replace normalizer");
                steps.Add(text => replace(text, content));
                break;
            }
            case "Strip":
            {
                var left = TokenizerJson.OptionalBool(element, "strip_left", true);
                var right = TokenizerJson.OptionalBool(element, "strip_right", true);
                steps.Add(text => left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text);
                break;
            }
            default:
                throw new ModelFormatException(
                    $"tokenizer.json: normalizer type '{type}' is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip); this tokenizer family cannot be loaded");
        }
    }
}
