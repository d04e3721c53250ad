using System.Text.Json;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// The tokenizer.json "pre_tokenizer": cuts normalized text into the pieces BPE merges within (merges never
/// cross a piece boundary), and rewrites pieces into the vocabulary's alphabet (byte-level or ▁ for spaces).
/// </summary>
internal sealed class PreTokenizer
{
    // GPT-2's split, used by a ByteLevel pre-tokenizer with use_regex (files that carry no Split of their own).
    private const string Gpt2SplitPattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private delegate void Step(List<string> pieces, bool startsText);

    private readonly Step[] _steps;

    private PreTokenizer(Step[] steps) => _steps = steps;

    /// <summary>
    /// Splits <paramref name="text"/> into pieces; <paramref name="startsText"/> says whether it begins the whole
    /// input (not a stretch after an added token), which Metaspace's "first" prepend scheme depends on.
    /// </summary>
    public void Apply(string text, bool startsText, List<string> pieces)
    {
        pieces.Clear();
        pieces.Add(text);
        foreach (var step in _steps)
            step(pieces, startsText);
    }

    /// <summary>Reads the "pre_tokenizer" object; null (no pre-tokenizer) gives null.</summary>
    public static PreTokenizer? Parse(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Null || element.ValueKind == JsonValueKind.Undefined)
            return null;
        var steps = new List<Step>();
        AddSteps(element, steps);
        return new PreTokenizer([.. steps]);
    }

    private static void AddSteps(JsonElement element, List<Step> steps)
    {
        var type = TokenizerJson.RequiredString(element, "type", "pre_tokenizer");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in TokenizerJson.RequiredArray(element, "pretokenizers", "Sequence pre_tokenizer"))
                    AddSteps(inner, steps);
                break;
            case "Split":
                steps.Add(ParseSplit(element));
                break;
            case "ByteLevel":
                steps.Add(ParseByteLevel(element));
                break;
            case "Metaspace":
                steps.Add(ParseMetaspace(element));
                break;
            default:
                throw new ModelFormatException(
                    $"tokenizer.json: pre_tokenizer type '{type}' is not supported (supported: Sequence, Split, ByteLevel, Metaspace); this tokenizer family cannot be loaded");
        }
    }

    private static Step ParseSplit(JsonElement element)
    {
        var behavior = ParseBehavior(TokenizerJson.RequiredString(element, "behavior", "Split pre_tokenizer"));
        var invert = TokenizerJson.OptionalBool(element, "invert", false);
        var pattern = TokenizerJson.Property(element, "pattern");
        if (TokenizerJson.OptionalString(pattern, "Regex") is { } regex)
        {
            var compiled = new SplitPattern(regex);
            return (pieces, _) => SplitEach(pieces, compiled.FindMatches, behavior, invert);
        }
        if (TokenizerJson.OptionalString(pattern, "String") is { } literal)
            return (pieces, _) => SplitEach(pieces, (text, matches) => FindLiteral(text, literal, matches), behavior, invert);
        throw new ModelFormatException("tokenizer.json: a Split pre_tokenizer has no \"pattern\" with a \"String\" or \"Regex\"; the file is malformed");
    }

    private static Step ParseByteLevel(JsonElement element)
    {
        var addPrefixSpace = TokenizerJson.OptionalBool(element, "add_prefix_space", false);
        var useRegex = TokenizerJson.OptionalBool(element, "use_regex", true);
        var gpt2 = useRegex ? new SplitPattern(Gpt2SplitPattern) : null;
        return (pieces, _) =>
        {
            if (addPrefixSpace)
            {
                for (var i = 0; i < pieces.Count; i++)
                {
                    if (!pieces[i].StartsWith(' '))
                        pieces[i] = " " + pieces[i];
                }
            }
            if (gpt2 is not null)
                SplitEach(pieces, gpt2.FindMatches, SplitBehavior.Isolated, invert: false);
            for (var i = 0; i < pieces.Count; i++)
                pieces[i] = ByteLevelAlphabet.FromText(pieces[i]);
        };
    }

    private static Step ParseMetaspace(JsonElement element)
    {
        var replacement = TokenizerJson.OptionalString(element, "replacement") ?? "▁";
        var split = TokenizerJson.OptionalBool(element, "split", true);
        // Older files say add_prefix_space instead of prepend_scheme.
        var scheme = TokenizerJson.OptionalString(element, "prepend_scheme")
            ?? (TokenizerJson.OptionalBool(element, "add_prefix_space", true) ? "always" : "never");
        return (pieces, startsText) =>
        {
            for (var i = 0; i < pieces.Count; i++)
            {
                var piece = pieces[i].Replace(" ", replacement, StringComparison.Ordinal);
                var prepend = scheme == "always" || (scheme == "first" && startsText && i == 0);
                if (prepend && !piece.StartsWith(replacement, StringComparison.Ordinal))
                    piece = replacement + piece;
                pieces[i] = piece;
            }
            if (split)
                SplitEach(pieces, (text, matches) => FindLiteral(text, replacement, matches), SplitBehavior.MergedWithNext, invert: false);
        };
    }

    private static void FindLiteral(ReadOnlySpan<char> text, string literal, List<(int Start, int End)> matches)
    {
        if (literal.Length == 0)
            return;
        var offset = 0;
        while (true)
        {
            var found = text[offset..].IndexOf(literal, StringComparison.Ordinal);
            if (found < 0)
                return;
            matches.Add((offset + found, offset + found + literal.Length));
            offset += found + literal.Length;
        }
    }

    private static void SplitEach(List<string> pieces, MatchFinder findMatches, SplitBehavior behavior, bool invert)
    {
        var matches = new List<(int Start, int End)>();
        var parts = new List<(int Start, int End, bool IsMatch)>();
        var result = new List<string>(pieces.Count * 2);
        foreach (var piece in pieces)
        {
            matches.Clear();
            findMatches(piece, matches);
            parts.Clear();
            var position = 0;
            foreach (var (start, end) in matches)
            {
                if (start > position)
                    parts.Add((position, start, invert));
                parts.Add((start, end, !invert));
                position = end;
            }
            if (position < piece.Length)
                parts.Add((position, piece.Length, invert));
            Combine(parts, behavior);
            foreach (var (start, end, _) in parts)
            {
                if (end > start)
                    result.Add(piece[start..end]);
            }
        }
        pieces.Clear();
        pieces.AddRange(result);
    }

    private delegate void MatchFinder(ReadOnlySpan<char> text, List<(int Start, int End)> matches);

    /// <summary>Applies the Split behavior to a piece's alternating match / non-match parts, as the Rust crate does.</summary>
    private static void Combine(List<(int Start, int End, bool IsMatch)> parts, SplitBehavior behavior)
    {
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                return;
            case SplitBehavior.Removed:
                parts.RemoveAll(static part => part.IsMatch);
                return;
            case SplitBehavior.MergedWithPrevious:
            {
                // A match joins the part before it unless that part was itself a match.
                var merged = new List<(int Start, int End, bool IsMatch)>(parts.Count);
                var previousWasMatch = false;
                foreach (var part in parts)
                {
                    if (part.IsMatch && !previousWasMatch && merged.Count > 0)
                        merged[^1] = (merged[^1].Start, part.End, false);
                    else
                        merged.Add((part.Start, part.End, false));
                    previousWasMatch = part.IsMatch;
                }
                parts.Clear();
                parts.AddRange(merged);
                return;
            }
            case SplitBehavior.MergedWithNext:
            {
                // Mirror image: a match joins the part after it unless that part was itself a match.
                var merged = new List<(int Start, int End, bool IsMatch)>(parts.Count);
                var nextWasMatch = false;
                for (var i = parts.Count - 1; i >= 0; i--)
                {
                    var part = parts[i];
                    if (part.IsMatch && !nextWasMatch && merged.Count > 0)
                        merged[^1] = (part.Start, merged[^1].End, false);
                    else
                        merged.Add((part.Start, part.End, false));
                    nextWasMatch = part.IsMatch;
                }
                merged.Reverse();
                parts.Clear();
                parts.AddRange(merged);
                return;
            }
            case SplitBehavior.Contiguous:
            {
                var merged = new List<(int Start, int End, bool IsMatch)>(parts.Count);
                foreach (var part in parts)
                {
                    if (merged.Count > 0 && merged[^1].IsMatch == part.IsMatch)
                        merged[^1] = (merged[^1].Start, part.End, part.IsMatch);
                    else
                        merged.Add(part);
                }
                parts.Clear();
                parts.AddRange(merged);
                return;
            }
        }
    }

    private static SplitBehavior ParseBehavior(string name) => name switch
    {
        "Isolated" => SplitBehavior.Isolated,
        "Removed" => SplitBehavior.Removed,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw new ModelFormatException($"tokenizer.json: Split behavior '{name}' is unknown (expected Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous)"),
    };

    private enum SplitBehavior
    {
        Isolated,
        Removed,
        MergedWithPrevious,
        MergedWithNext,
        Contiguous,
    }
}
