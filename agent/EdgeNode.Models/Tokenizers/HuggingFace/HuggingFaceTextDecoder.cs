namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// Streaming decode for tokenizer.json families. Their decoders (byte-level, metaspace, byte fallback) work
/// on whole sequences, so the generated ids are decoded together and only the new, complete part is
/// emitted; a trailing U+FFFD means a character is still incomplete and waits for the next token.
/// </summary>
public sealed class HuggingFaceTextDecoder(HuggingFaceTokenizer tokenizer) : ITokenTextDecoder
{
    private readonly List<int> _tokens = [];
    private int _emitted;

    public string Append(int token)
    {
        _tokens.Add(token);
        var text = tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens), skipSpecialTokens: true);
        if (text.Length > 0 && text[^1] == '\uFFFD')
            return string.Empty;
        return Emit(text);
    }

    public string Flush() =>
        Emit(tokenizer.Decode(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_tokens), skipSpecialTokens: true));

    private string Emit(string text)
    {
        if (text.Length <= _emitted)
            return string.Empty;
        var piece = text[_emitted..];
        _emitted = text.Length;
        return piece;
    }
}
