using EdgeNode.Models.Tokenizers;
using EdgeNode.Models.Tokenizers.HuggingFace;

namespace EdgeNode.Models.Chat;

/// <summary>
/// Rendered chat prompts to token ids. The template's markers (&lt;|im_start|&gt;, &lt;|eot_id|&gt;, &lt;s&gt; …) must
/// each become their single special id. Most templates write their BOS as text, so the tokenizer adds nothing of its
/// own — a second BOS would be a token the model never saw in training; the few that do not get the tokenizer's BOS
/// put first (<see cref="ChatTemplate.TokenizerAddsBos"/>).
/// </summary>
public static class ChatPromptEncoder
{
    public static int[] Encode(ITextTokenizer tokenizer, ChatTemplate template, string renderedPrompt)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(renderedPrompt);
        var specials = SpecialIds(tokenizer);
        var missing = template.SpecialTokens.Where(token => !specials.ContainsKey(token)).ToList();
        if (missing.Count > 0)
            throw new ChatTemplateException($"the {template.Name} chat template writes {string.Join(", ", missing)}, which this model's tokenizer does not have as special tokens: the template does not fit this model; pick another with --chat-template ({string.Join(", ", ChatTemplates.Names)})");
        var ids = tokenizer switch
        {
            // Added-token text in the input already becomes the special ids there.
            HuggingFaceTokenizer => tokenizer.Encode(renderedPrompt, addSpecialTokens: false),
            _ => EncodeAroundSpecials(tokenizer, renderedPrompt, specials),
        };
        return template.TokenizerAddsBos ? PrependBos(tokenizer, template, ids) : ids;
    }

    private static int[] PrependBos(ITextTokenizer tokenizer, ChatTemplate template, int[] ids)
    {
        var bos = tokenizer switch
        {
            HuggingFaceTokenizer hf => hf.BosId,
            Llama2cTokenizer => Llama2cTokenizer.Bos,
            _ => null,
        } ?? throw new ChatTemplateException($"the {template.Name} chat template starts with the tokenizer's BOS token, which this model's tokenizer does not name: the template does not fit this model; pick another with --chat-template ({string.Join(", ", ChatTemplates.Names)})");
        return [bos, .. ids];
    }

    /// <summary>The ids that end an assistant turn in this format, for the generator to stop at.</summary>
    public static IReadOnlySet<int> EndOfTurnIds(ITextTokenizer tokenizer, ChatTemplate template)
    {
        var specials = SpecialIds(tokenizer);
        var ids = new HashSet<int>();
        foreach (var token in template.EndOfTurnTokens)
        {
            if (specials.TryGetValue(token, out var id))
                ids.Add(id);
        }
        return ids;
    }

    private static IReadOnlyDictionary<string, int> SpecialIds(ITextTokenizer tokenizer) => tokenizer switch
    {
        HuggingFaceTokenizer hf => hf.SpecialTokens,
        // llama2.c and GGUF-derived SentencePiece vocabularies store BOS and EOS as control pieces at ids 1 and 2.
        Llama2cTokenizer => new Dictionary<string, int>(StringComparer.Ordinal) { ["<s>"] = Llama2cTokenizer.Bos, ["</s>"] = Llama2cTokenizer.Eos },
        _ => new Dictionary<string, int>(),
    };

    /// <summary>
    /// For tokenizers that read text only: cut the prompt at each special-token text and encode the pieces between
    /// without BOS. Each piece gets SentencePiece's leading space, as Hugging Face's Llama tokenizer does after a
    /// special token.
    /// </summary>
    private static int[] EncodeAroundSpecials(ITextTokenizer tokenizer, string prompt, IReadOnlyDictionary<string, int> specials)
    {
        var ids = new List<int>();
        var start = 0;
        var at = 0;
        while (at < prompt.Length)
        {
            var matched = specials.Keys.Where(s => string.CompareOrdinal(prompt, at, s, 0, s.Length) == 0).MaxBy(s => s.Length);
            if (matched is null)
            {
                at++;
                continue;
            }
            if (at > start)
                ids.AddRange(tokenizer.Encode(prompt[start..at], addSpecialTokens: false));
            ids.Add(specials[matched]);
            at += matched.Length;
            start = at;
        }
        if (start < prompt.Length)
            ids.AddRange(tokenizer.Encode(prompt[start..], addSpecialTokens: false));
        return [.. ids];
    }
}
