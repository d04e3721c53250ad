namespace EdgeNode.Models.Tokenizers;

/// <summary>
/// What generation needs from a tokenizer, whatever its family: text to ids, the ids that end a text, and a
/// streaming decoder that only ever emits whole UTF-8 characters.
/// </summary>
public interface ITextTokenizer
{
    int VocabSize { get; }

    /// <summary>Token ids of <paramref name="text"/>, with the family's start-of-text token when asked.</summary>
    int[] Encode(string text, bool addSpecialTokens = true);

    /// <summary>Ids after which generation stops (end of text; llama2.c stories also end at BOS).</summary>
    IReadOnlySet<int> StopTokens { get; }

    /// <summary>A decoder that continues after <paramref name="previousToken"/> (the prompt's last token).</summary>
    ITokenTextDecoder CreateDecoder(int previousToken);
}

/// <summary>Turns a stream of token ids into text, holding back incomplete UTF-8 sequences.</summary>
public interface ITokenTextDecoder
{
    string Append(int token);

    string Flush();
}
