using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// The tokenizer.json "decoder": turns token strings back into text. Like the Rust crate, it works on the list of
/// token strings, each step mapping the list to a new one, and joins the result at the end.
/// </summary>
internal sealed class TokenDecoder
{
    private readonly Action<List<string>>[] _steps;

    private TokenDecoder(Action<List<string>>[] steps) => _steps = steps;

    public string Decode(List<string> tokens)
    {
        foreach (var step in _steps)
            step(tokens);
        return string.Concat(tokens);
    }

    /// <summary>Reads the "decoder" object; a file without one joins tokens with spaces, as the Rust crate does.</summary>
    public static TokenDecoder Parse(JsonElement element)
    {
        var steps = new List<Action<List<string>>>();
        if (element.ValueKind == JsonValueKind.Object)
            AddSteps(element, steps);
        else
            steps.Add(static tokens => JoinInto(tokens, string.Join(' ', tokens)));
        return new TokenDecoder([.. steps]);
    }

    private static void AddSteps(JsonElement element, List<Action<List<string>>> steps)
    {
        var type = TokenizerJson.RequiredString(element, "type", "decoder");
        switch (type)
        {
            case "Sequence":
                foreach (var inner in TokenizerJson.RequiredArray(element, "decoders", "Sequence decoder"))
                    AddSteps(inner, steps);
                break;
            case "ByteLevel":
                steps.Add(DecodeByteLevel);
                break;
            case "ByteFallback":
                steps.Add(DecodeByteFallback);
                break;
            case "Fuse":
                steps.Add(static tokens => JoinInto(tokens, string.Concat(tokens)));
                break;
            case "Replace":
            {
                var content = TokenizerJson.RequiredString(element, "content", "Replace decoder");
                var replace = TokenizerJson.ParseReplacePattern(element, "Replace decoder");
                steps.Add(tokens =>
                {
                    for (var i = 0; i < tokens.Count; i++)
                        tokens[i] = replace(tokens[i], content);
                });
                break;
            }
            case "Strip":
            {
                var content = TokenizerJson.RequiredString(element, "content", "Strip decoder");
                var start = TokenizerJson.OptionalInt(element, "start", 0);
                var stop = TokenizerJson.OptionalInt(element, "stop", 0);
                steps.Add(tokens =>
                {
                    for (var i = 0; i < tokens.Count; i++)
                        tokens[i] = Strip(tokens[i], content, start, stop);
                });
                break;
            }
            case "Metaspace":
            {
                var replacement = TokenizerJson.OptionalString(element, "replacement") ?? "▁";
                var scheme = TokenizerJson.OptionalString(element, "prepend_scheme")
                    ?? (TokenizerJson.OptionalBool(element, "add_prefix_space", true) ? "always" : "never");
                steps.Add(tokens =>
                {
                    for (var i = 0; i < tokens.Count; i++)
                    {
                        // The first token's replacement characters are the prepended space: dropped, not spaces.
                        tokens[i] = i == 0 && scheme != "never"
                            ? tokens[i].Replace(replacement, string.Empty, StringComparison.Ordinal)
                            : tokens[i].Replace(replacement, " ", StringComparison.Ordinal);
                    }
                });
                break;
            }
            default:
                throw new ModelFormatException(
                    $"tokenizer.json: decoder type '{type}' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace)");
        }
    }

    private static void JoinInto(List<string> tokens, string joined)
    {
        tokens.Clear();
        tokens.Add(joined);
    }

    private static void DecodeByteLevel(List<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            // A token with a character outside the byte alphabet (an added token such as "<|im_end|> ") is taken
            // as its own UTF-8.
            var mapped = true;
            foreach (var c in token)
            {
                if (!ByteLevelAlphabet.TryGetByte(c, out _))
                {
                    mapped = false;
                    break;
                }
            }
            if (mapped)
            {
                foreach (var c in token)
                {
                    ByteLevelAlphabet.TryGetByte(c, out var b);
                    bytes.Add(b);
                }
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }
        JoinInto(tokens, Encoding.UTF8.GetString([.. bytes]));
    }

    private static void DecodeByteFallback(List<string> tokens)
    {
        // Runs of <0xNN> become the text their bytes spell; a run that is not valid UTF-8 becomes one U+FFFD per byte.
        var result = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (var token in tokens)
        {
            if (TryParseByteToken(token, out var b))
            {
                pending.Add(b);
                continue;
            }
            Flush(pending, result);
            result.Add(token);
        }
        Flush(pending, result);
        tokens.Clear();
        tokens.AddRange(result);

        static void Flush(List<byte> pending, List<string> result)
        {
            if (pending.Count == 0)
                return;
            var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
            try
            {
                result.Add(strict.GetString([.. pending]));
            }
            catch (DecoderFallbackException)
            {
                result.Add(new string('\uFFFD', pending.Count));
            }
            pending.Clear();
        }
    }

    private static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    private static string Strip(string token, string content, int start, int stop)
    {
        var from = 0;
        for (var stripped = 0; stripped < start && content.Length > 0 && token.AsSpan(from).StartsWith(content, StringComparison.Ordinal); stripped++)
            from += content.Length;
        var to = token.Length;
        for (var stripped = 0; stripped < stop && content.Length > 0 && token.AsSpan(from, to - from).EndsWith(content, StringComparison.Ordinal); stripped++)
            to -= content.Length;
        return token[from..to];
    }
}
