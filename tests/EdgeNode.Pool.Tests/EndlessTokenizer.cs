using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Pool.Tests;

/// <summary>A model's tokenizer without stop tokens: a generation runs to its token limit, past the end of a story.</summary>
public sealed class EndlessTokenizer(ITextTokenizer inner) : ITextTokenizer
{
    public int VocabSize => inner.VocabSize;
    public IReadOnlySet<int> StopTokens { get; } = new HashSet<int>();
    public int[] Encode(string text, bool addSpecialTokens = true) => inner.Encode(text, addSpecialTokens);
    public ITokenTextDecoder CreateDecoder(int previousToken) => inner.CreateDecoder(previousToken);
}
