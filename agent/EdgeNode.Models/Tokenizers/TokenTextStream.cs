using System.Text;

namespace EdgeNode.Models.Tokenizers;

/// <summary>
/// Turns a stream of generated tokens into text, emitting only whole UTF-8 characters: a character split across
/// byte-fallback tokens is held back until its last byte arrives, so a consumer never sees U+FFFD halves.
/// </summary>
public sealed class TokenTextStream : ITokenTextDecoder
{
    private readonly Llama2cTokenizer _tokenizer;
    private readonly byte[] _pieceBuffer;
    private readonly List<byte> _pending = new(8);
    private int _previousToken = Llama2cTokenizer.Bos;

    /// <param name="previousToken">The token before the first one appended (the prompt's last token):
    /// decoding a piece depends on it (the leading space after BOS is dropped).</param>
    public TokenTextStream(Llama2cTokenizer tokenizer, int previousToken)
        : this(tokenizer) => _previousToken = previousToken;

    public TokenTextStream(Llama2cTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _pieceBuffer = new byte[tokenizer.MaxTokenLength + 1];
    }

    /// <summary>Adds a token and returns the text that is now complete (possibly empty).</summary>
    public string Append(int token)
    {
        var written = _tokenizer.AppendPieceBytes(_previousToken, token, _pieceBuffer);
        _previousToken = token;
        for (var i = 0; i < written; i++)
            _pending.Add(_pieceBuffer[i]);

        var complete = _pending.Count - IncompleteTailLength();
        if (complete == 0)
            return string.Empty;
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending)[..complete]);
        _pending.RemoveRange(0, complete);
        return text;
    }

    /// <summary>Returns whatever is held back (an unfinished sequence decodes to U+FFFD) and clears it.</summary>
    public string Flush()
    {
        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending));
        _pending.Clear();
        return text;
    }

    /// <summary>Starts a new sequence, as after BOS.</summary>
    public void Reset()
    {
        _pending.Clear();
        _previousToken = Llama2cTokenizer.Bos;
    }

    // The number of trailing bytes that begin a multi-byte character whose remaining bytes have not arrived.
    private int IncompleteTailLength()
    {
        var count = _pending.Count;
        for (var back = 1; back <= Math.Min(3, count); back++)
        {
            var b = _pending[count - back];
            if ((b & 0xC0) == 0x80)
                continue; // continuation byte: keep looking for the lead
            var needed = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return needed > back ? back : 0;
        }
        return 0;
    }
}
