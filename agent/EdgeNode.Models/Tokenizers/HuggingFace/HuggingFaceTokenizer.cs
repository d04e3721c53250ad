using System.Collections.Frozen;
using System.Text.Json;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// A tokenizer read from a Hugging Face tokenizer.json with a BPE model: byte-level BPE (GPT-2, Llama-3, Qwen2/3,
/// SmolLM) and SentencePiece-style BPE with byte fallback (Llama-2, Mistral, Gemma). Encoding runs the file's own
/// pipeline — added tokens, normalizer, pre-tokenizer, BPE merges, post-processor — so ids match the tokenizers
/// library's for the same file.
/// </summary>
/// <remarks>Immutable once loaded; Encode and Decode may run on several threads at once.</remarks>
public sealed class HuggingFaceTokenizer : ITextTokenizer
{
    private readonly AddedTokenMatcher _addedTokens;
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly BytePairModel _model;
    private readonly PostProcessor _postProcessor;
    private readonly TokenDecoder _decoder;
    private readonly string?[] _tokenText; // id → token string as the vocabulary spells it
    private readonly bool[] _isSpecial;

    private HuggingFaceTokenizer(
        AddedTokenMatcher addedTokens,
        Normalizer? normalizer,
        PreTokenizer? preTokenizer,
        BytePairModel model,
        PostProcessor postProcessor,
        TokenDecoder decoder,
        string?[] tokenText,
        bool[] isSpecial,
        IReadOnlyDictionary<string, int> specialTokens)
    {
        _addedTokens = addedTokens;
        _normalizer = normalizer;
        _preTokenizer = preTokenizer;
        _model = model;
        _postProcessor = postProcessor;
        _decoder = decoder;
        _tokenText = tokenText;
        _isSpecial = isSpecial;
        SpecialTokens = specialTokens;
    }

    /// <summary>One more than the largest id, over the vocabulary and the added tokens.</summary>
    public int VocabSize => _tokenText.Length;

    /// <summary>The added tokens marked special (BOS, EOS, chat markers), by their text.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    /// <summary>From tokenizer_config.json's bos_token when that file sits next to tokenizer.json, else the token the
    /// post-processor puts first; null when neither names one (Qwen).</summary>
    public int? BosId { get; private set; }

    /// <summary>From tokenizer_config.json's eos_token when that file sits next to tokenizer.json, else null.</summary>
    public int? EosId { get; private set; }

    /// <summary>The token string of <paramref name="id"/> as the vocabulary spells it (Ġ for a byte-level space).</summary>
    public string TokenText(int id) => _tokenText[id] ?? string.Empty;

    public static HuggingFaceTokenizer Load(string tokenizerJsonPath)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        var fileName = Path.GetFileName(tokenizerJsonPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath), new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{fileName}: not valid JSON ({e.Message}); the download is incomplete or this is not a tokenizer.json — fetch it again", e);
        }

        HuggingFaceTokenizer tokenizer;
        using (document)
            tokenizer = Create(document.RootElement);

        var configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
        (tokenizer.BosId, tokenizer.EosId) = File.Exists(configPath)
            ? tokenizer.ReadConfigTokens(configPath)
            : (tokenizer._postProcessor.FirstLeadingId, null);
        return tokenizer;
    }

    private static HuggingFaceTokenizer Create(JsonElement root)
    {
        var model = BytePairModel.Parse(TokenizerJson.Property(root, "model"));
        var addedTokens = new AddedTokenMatcher();
        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedElement) && addedElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in addedElement.EnumerateArray())
            {
                var token = new AddedToken(
                    TokenizerJson.OptionalInt(entry, "id", -1),
                    TokenizerJson.RequiredString(entry, "content", "added token"),
                    TokenizerJson.OptionalBool(entry, "special", false),
                    TokenizerJson.OptionalBool(entry, "lstrip", false),
                    TokenizerJson.OptionalBool(entry, "rstrip", false));
                if (token.Id < 0)
                    throw new ModelFormatException($"tokenizer.json: added token \"{token.Content}\" has no id");
                added.Add(token);
                addedTokens.Add(token);
            }
        }

        var size = 0;
        foreach (var id in model.Vocabulary.Values)
            size = Math.Max(size, id + 1);
        foreach (var token in added)
            size = Math.Max(size, token.Id + 1);
        var tokenText = new string?[size];
        foreach (var (text, id) in model.Vocabulary)
            tokenText[id] = text;
        var isSpecial = new bool[size];
        var specialTokens = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in added)
        {
            tokenText[token.Id] = token.Content;
            if (token.Special)
            {
                isSpecial[token.Id] = true;
                specialTokens[token.Content] = token.Id;
            }
        }

        return new HuggingFaceTokenizer(
            addedTokens,
            Normalizer.Parse(TokenizerJson.Property(root, "normalizer")),
            PreTokenizer.Parse(TokenizerJson.Property(root, "pre_tokenizer")),
            model,
            PostProcessor.Parse(TokenizerJson.Property(root, "post_processor")),
            TokenDecoder.Parse(TokenizerJson.Property(root, "decoder")),
            tokenText,
            isSpecial,
            specialTokens.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private (int? Bos, int? Eos) ReadConfigTokens(string configPath)
    {
        using var config = JsonDocument.Parse(File.ReadAllBytes(configPath), new JsonDocumentOptions { MaxDepth = 256 });
        return (IdOf(config.RootElement, "bos_token"), IdOf(config.RootElement, "eos_token"));

        int? IdOf(JsonElement root, string name)
        {
            // Written either as "<s>" or as {"content": "<s>", ...}.
            var value = TokenizerJson.Property(root, name);
            var text = value.ValueKind == JsonValueKind.String ? value.GetString() : TokenizerJson.OptionalString(value, "content");
            if (text is null)
                return null;
            if (SpecialTokens.TryGetValue(text, out var special))
                return special;
            return _model.Vocabulary.TryGetValue(text, out var id) ? id : null;
        }
    }

    /// <summary>
    /// Token ids of <paramref name="text"/>. Added-token text in the input (e.g. "&lt;|im_start|&gt;") becomes that
    /// token, as in the tokenizers library; <paramref name="addSpecialTokens"/> adds the post-processor's tokens (BOS).
    /// </summary>
    /// <summary>The end-of-text id, when the tokenizer names one.</summary>
    public IReadOnlySet<int> StopTokens => _stopTokens ??= EosId is { } eos ? new HashSet<int> { eos } : new HashSet<int>();

    private IReadOnlySet<int>? _stopTokens;

    public ITokenTextDecoder CreateDecoder(int previousToken) => new HuggingFaceTextDecoder(this);

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        var segments = new List<(int Start, int End, int Id)>();
        var pieces = new List<string>();
        var scratch = new BytePairModel.MergeScratch();
        _addedTokens.Split(text, segments);
        foreach (var (start, end, id) in segments)
        {
            if (id >= 0)
            {
                ids.Add(id);
                continue;
            }
            // Each stretch between added tokens is normalized on its own (so Prepend adds ▁ after every one).
            var stretch = text[start..end];
            var normalized = _normalizer is null ? stretch : _normalizer.Apply(stretch);
            if (_preTokenizer is null)
            {
                _model.Encode(normalized, ids, scratch);
                continue;
            }
            _preTokenizer.Apply(normalized, startsText: start == 0, pieces);
            foreach (var piece in pieces)
                _model.Encode(piece, ids, scratch);
        }
        return addSpecialTokens ? _postProcessor.Apply(ids) : [.. ids];
    }

    /// <summary>The text of <paramref name="ids"/>, through the file's decoder.</summary>
    /// <param name="skipSpecialTokens">Leave out special added tokens (BOS, EOS, chat markers).</param>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>(ids.Length);
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_tokenText.Length || _tokenText[id] is not { } token)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is not in this tokenizer (vocabulary size {_tokenText.Length})");
            if (skipSpecialTokens && _isSpecial[id])
                continue;
            tokens.Add(token);
        }
        return _decoder.Decode(tokens);
    }
}
