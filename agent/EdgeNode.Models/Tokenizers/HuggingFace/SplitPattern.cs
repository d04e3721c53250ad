using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// A pre-tokenizer regex written for Oniguruma (what the Rust tokenizers crate runs), evaluated with .NET's
/// engine so that it finds the same matches: the syntax is translated once, and matching runs over code points.
/// </summary>
/// <remarks>
/// .NET matches UTF-16 units, Oniguruma code points. An astral character (emoji, CJK extension B, math letters)
/// is two surrogates to .NET, neither of them a letter, number or symbol, so "👍abc" would split differently
/// and <c>\p{N}{1,3}</c> would count wrong. Text holding surrogate pairs is therefore matched as a stand-in where
/// each astral code point is one BMP character of the same Unicode category, and match bounds are mapped back.
/// </remarks>
internal sealed class SplitPattern
{
    // One BMP character per UnicodeCategory, taken from outside ASCII so it never equals a literal in a pattern.
    private static readonly char[] s_categoryStandIns = BuildCategoryStandIns();

    private readonly Regex _regex;

    public SplitPattern(string onigurumaPattern)
    {
        var translated = Translate(onigurumaPattern);
        try
        {
            // Compiled is ignored under NativeAOT, where the interpreter runs the same pattern.
            _regex = new Regex(translated, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(
                $"tokenizer.json: the pre-tokenizer regex '{onigurumaPattern}' (as .NET: '{translated}') cannot be compiled: {e.Message}", e);
        }
    }

    /// <summary>The .NET form of the pattern, for diagnostics.</summary>
    public string Pattern => _regex.ToString();

    /// <summary>Appends the non-empty matches in <paramref name="text"/> as (start, end) UTF-16 offsets.</summary>
    public void FindMatches(ReadOnlySpan<char> text, List<(int Start, int End)> matches)
    {
        if (!HasSurrogates(text))
        {
            foreach (var match in _regex.EnumerateMatches(text))
            {
                if (match.Length > 0)
                    matches.Add((match.Index, match.Index + match.Length));
            }
            return;
        }

        // proxyToText[i] is where stand-in character i starts in text; one extra entry marks the end.
        var proxy = new char[text.Length];
        var proxyToText = new int[text.Length + 1];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            proxyToText[length] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]));
                proxy[length++] = s_categoryStandIns[(int)category];
                i++;
            }
            else
            {
                proxy[length++] = text[i];
            }
        }
        proxyToText[length] = text.Length;
        foreach (var match in _regex.EnumerateMatches(proxy.AsSpan(0, length)))
        {
            if (match.Length > 0)
                matches.Add((proxyToText[match.Index], proxyToText[match.Index + match.Length]));
        }
    }

    private static bool HasSurrogates(ReadOnlySpan<char> text)
    {
        // Surrogates are U+D800..U+DFFF; one vectorized range scan finds any of them.
        return text.IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;
    }

    /// <summary>
    /// Rewrites the Oniguruma constructs that .NET reads differently: possessive quantifiers become atomic groups,
    /// <c>{n,m}+</c> (a repeated interval in Oniguruma, not a possessive one) becomes a group, <c>\x{…}</c> and
    /// <c>\h</c> become their .NET spellings, and ^ / $ keep Oniguruma's always-multiline meaning.
    /// </summary>
    internal static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var groupStarts = new Stack<int>();
        var lastAtomStart = -1;
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            switch (c)
            {
                case '\\':
                    lastAtomStart = output.Length;
                    i = CopyEscape(pattern, i, output);
                    continue;
                case '[':
                    lastAtomStart = output.Length;
                    i = CopyClass(pattern, i, output);
                    continue;
                case '(':
                    groupStarts.Push(output.Length);
                    output.Append(c);
                    i++;
                    continue;
                case ')':
                    lastAtomStart = groupStarts.Count > 0 ? groupStarts.Pop() : output.Length;
                    output.Append(c);
                    i++;
                    continue;
                case '^':
                    output.Append("(?m:^)");
                    lastAtomStart = -1;
                    i++;
                    continue;
                case '$':
                    output.Append("(?m:$)");
                    lastAtomStart = -1;
                    i++;
                    continue;
                case '*' or '+' or '?' or '{':
                    i = CopyQuantifier(pattern, i, output, lastAtomStart);
                    lastAtomStart = -1;
                    continue;
                default:
                    lastAtomStart = output.Length;
                    output.Append(c);
                    i++;
                    continue;
            }
        }
        return output.ToString();
    }

    private static int CopyQuantifier(string pattern, int i, StringBuilder output, int atomStart)
    {
        var start = i;
        var isInterval = false;
        if (pattern[i] == '{')
        {
            var close = pattern.IndexOf('}', i);
            if (close < 0 || !IsInterval(pattern.AsSpan(i + 1, close - i - 1)))
            {
                // A brace that is not an interval is a literal in Oniguruma; .NET needs it escaped.
                output.Append("\\{");
                return i + 1;
            }
            i = close + 1;
            isInterval = true;
        }
        else
        {
            i++;
        }
        var quantifier = pattern.AsSpan(start, i - start);
        if (i < pattern.Length && pattern[i] == '?')
        {
            output.Append(quantifier).Append('?');
            return i + 1;
        }
        if (i < pattern.Length && pattern[i] == '+' && atomStart >= 0)
        {
            // X*+ X++ X?+ are possessive (never give back); X{n,m}+ means (X{n,m})+.
            output.Insert(atomStart, isInterval ? "(?:" : "(?>");
            output.Append(quantifier).Append(')');
            if (isInterval)
                output.Append('+');
            return i + 1;
        }
        output.Append(quantifier);
        return i;
    }

    private static bool IsInterval(ReadOnlySpan<char> body)
    {
        if (body.IsEmpty)
            return false;
        var comma = body.IndexOf(',');
        return comma < 0
            ? IsDigits(body)
            : (IsDigits(body[..comma]) || comma == 0) && (body.Length == comma + 1 || IsDigits(body[(comma + 1)..]));
    }

    private static bool IsDigits(ReadOnlySpan<char> span) => !span.IsEmpty && !span.ContainsAnyExceptInRange('0', '9');

    private static int CopyEscape(string pattern, int i, StringBuilder output)
    {
        if (i + 1 >= pattern.Length)
        {
            output.Append("\\\\");
            return i + 1;
        }
        var next = pattern[i + 1];
        if (next == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
        {
            var close = pattern.IndexOf('}', i + 3);
            if (close > 0 && int.TryParse(pattern.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var codePoint))
            {
                foreach (var unit in char.ConvertFromUtf32(codePoint))
                    output.Append("\\u").Append(((int)unit).ToString("X4", CultureInfo.InvariantCulture));
                return close + 1;
            }
        }
        if (next == 'h')
        {
            output.Append("[0-9a-fA-F]");
            return i + 2;
        }
        if (next == 'H')
        {
            output.Append("[^0-9a-fA-F]");
            return i + 2;
        }
        if (next is 'p' or 'P' && i + 2 < pattern.Length && pattern[i + 2] == '{')
        {
            var close = pattern.IndexOf('}', i + 3);
            if (close > 0)
            {
                output.Append(pattern, i, close + 1 - i);
                return close + 1;
            }
        }
        output.Append(pattern, i, 2);
        return i + 2;
    }

    private static int CopyClass(string pattern, int i, StringBuilder output)
    {
        // Copied verbatim up to its closing bracket; escapes inside are copied with their escaped character.
        var depth = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                i = CopyEscape(pattern, i, output);
                continue;
            }
            output.Append(c);
            i++;
            if (c == '[')
            {
                depth++;
                if (i < pattern.Length && pattern[i] == '^')
                {
                    output.Append('^');
                    i++;
                }
                // A ']' right after the opening bracket is a literal member.
                if (i < pattern.Length && pattern[i] == ']')
                {
                    output.Append("\\]");
                    i++;
                }
                continue;
            }
            if (c == ']')
            {
                depth--;
                if (depth == 0)
                    return i;
            }
        }
        return i;
    }

    private static char[] BuildCategoryStandIns()
    {
        var standIns = new char[32];
        var found = new bool[32];
        for (var c = 0x80; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
                continue;
            var category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (!found[category])
            {
                found[category] = true;
                standIns[category] = (char)c;
            }
        }
        for (var c = 0; c < 0x80; c++)
        {
            var category = (int)CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (!found[category])
            {
                found[category] = true;
                standIns[category] = (char)c;
            }
        }
        return standIns;
    }
}
