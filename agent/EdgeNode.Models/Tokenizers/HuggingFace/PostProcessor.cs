using System.Text.Json;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// The tokenizer.json "post_processor" for a single sequence: the special tokens placed around the encoded text
/// (Llama-2, Mistral and Gemma put BOS first through TemplateProcessing; ByteLevel changes no ids).
/// </summary>
internal sealed class PostProcessor
{
    private readonly int[] _before;
    private readonly int[] _after;

    private PostProcessor(int[] before, int[] after)
    {
        _before = before;
        _after = after;
    }

    /// <summary>The first special token placed before the text (the BOS a template inserts), if any.</summary>
    public int? FirstLeadingId => _before.Length > 0 ? _before[0] : null;

    public int[] Apply(List<int> ids)
    {
        var result = new int[_before.Length + ids.Count + _after.Length];
        _before.CopyTo(result, 0);
        ids.CopyTo(result, _before.Length);
        _after.CopyTo(result, _before.Length + ids.Count);
        return result;
    }

    public static PostProcessor Parse(JsonElement element)
    {
        var before = new List<int>();
        var after = new List<int>();
        if (element.ValueKind == JsonValueKind.Object)
            AddParts(element, before, after);
        return new PostProcessor([.. before], [.. after]);
    }

    private static void AddParts(JsonElement element, List<int> before, List<int> after)
    {
        var type = TokenizerJson.RequiredString(element, "type", "post_processor");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in TokenizerJson.RequiredArray(element, "processors", "Sequence post_processor"))
                    AddParts(inner, before, after);
                break;
            case "ByteLevel":
                break; // Only trims offsets, which this tokenizer does not report.
            case "TemplateProcessing":
                AddTemplate(element, before, after);
                break;
            case "BertProcessing" or "RobertaProcessing":
                // [CLS] text [SEP]; each is written as ["token", id].
                before.Add(TokenizerJson.Property(element, "cls")[1].GetInt32());
                after.Add(TokenizerJson.Property(element, "sep")[1].GetInt32());
                break;
            default:
                throw new ModelFormatException(
                    $"tokenizer.json: post_processor type '{type}' is not supported (supported: Sequence, ByteLevel, TemplateProcessing, BertProcessing, RobertaProcessing)");
        }
    }

    private static void AddTemplate(JsonElement element, List<int> before, List<int> after)
    {
        var specialTokens = TokenizerJson.Property(element, "special_tokens");
        var seenSequence = false;
        foreach (var item in TokenizerJson.RequiredArray(element, "single", "TemplateProcessing post_processor"))
        {
            if (item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
                continue;
            }
            var name = TokenizerJson.RequiredString(TokenizerJson.Property(item, "SpecialToken"), "id", "TemplateProcessing SpecialToken");
            var special = TokenizerJson.Property(specialTokens, name);
            if (special.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"tokenizer.json: the TemplateProcessing template names '{name}', which its special_tokens does not define");
            foreach (var id in TokenizerJson.RequiredArray(special, "ids", $"TemplateProcessing special token '{name}'"))
                (seenSequence ? after : before).Add(id.GetInt32());
        }
    }
}
