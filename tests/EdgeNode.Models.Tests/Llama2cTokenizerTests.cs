using EdgeNode.Models.Tokenizers;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

public sealed class Llama2cTokenizerTests
{
    private static readonly Llama2cTokenizer s_tok512 = Llama2cTokenizer.Load(TestPaths.Model("stories260K", "tok512.bin"), 512);

    [Theory]
    [MemberData(nameof(GoldenCase.AllCases), MemberType = typeof(GoldenCase))]
    public void Encodes_every_golden_prompt_exactly(string model, int index)
    {
        var golden = GoldenCase.Load(model)[index];
        var tokenizer = Llama2cTokenizer.Load(golden.TokenizerPath, 512);
        Assert.Equal(golden.PromptTokens, tokenizer.Encode(golden.Prompt));
    }

    [Fact]
    public void The_non_ascii_prompt_uses_byte_fallback()
    {
        var tokens = s_tok512.Encode("Café ☕ 日本");
        Assert.Contains(tokens, s_tok512.IsByteFallback);
        Assert.Equal(1, tokens[0]);
        Assert.Equal([.. tokens[1..], 2], s_tok512.Encode("Café ☕ 日本", addBos: false, addEos: true));
    }

    [Fact]
    public void A_wrong_tokenizer_is_named_with_both_sizes()
    {
        var error = Assert.Throws<ModelFormatException>(() => Llama2cTokenizer.Load(TestPaths.Model("llama2-tokenizer", "tokenizer.bin"), 512));
        Assert.Equal("tokenizer.bin holds 32000 tokens but the model's vocab_size is 512: wrong tokenizer for this model; pass --tokenizer with the model's own", error.Message);
    }

    [Fact]
    public void Loads_the_llama2_tokenizer_and_round_trips_text()
    {
        var tokenizer = Llama2cTokenizer.Load(TestPaths.Model("llama2-tokenizer", "tokenizer.bin"), 32000);
        const string text = "Hello world, café ☕ 日本語!";
        var tokens = tokenizer.Encode(text);
        Assert.Equal(text, tokenizer.Decode(tokens.AsSpan(1)));
    }

    [Fact]
    public void Decoding_strips_the_dummy_space_after_bos_and_turns_byte_pieces_into_bytes()
    {
        var tokens = s_tok512.Encode("Once upon a time");
        Assert.Equal("Once upon a time", s_tok512.Decode(tokens.AsSpan(1)));
        Span<byte> buffer = stackalloc byte[16];
        Assert.Equal(1, s_tok512.AppendPieceBytes(5, 0xE2 + 3, buffer));
        Assert.Equal(0xE2, buffer[0]);
        Assert.Equal("<0xE2>", s_tok512.Piece(0xE2 + 3));
    }

    [Fact]
    public void The_text_stream_emits_only_whole_characters()
    {
        var golden = GoldenCase.Load("stories260K").Single(c => c.Prompt == "Café ☕ 日本");
        var stream = new TokenTextStream(s_tok512);
        var pieces = golden.PromptTokens[1..].Select(stream.Append).ToList();
        pieces.Add(stream.Flush());

        Assert.Equal("Café ☕ 日本", string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD', StringComparison.Ordinal));
        // At least one token produced nothing because it ended mid-character, and the character came out whole later.
        Assert.Contains(pieces, p => p.Length == 0);
        Assert.Contains("☕", pieces);

        var whole = new TokenTextStream(s_tok512);
        var text = string.Concat(golden.PromptTokens[1..].Concat(golden.Tokens).Select(whole.Append)) + whole.Flush();
        Assert.StartsWith("Café ☕ 日本", text);
        Assert.Contains(". Can you help", text);
    }

    [Fact]
    public void Flush_returns_an_unfinished_character_as_a_replacement()
    {
        var stream = new TokenTextStream(s_tok512);
        Assert.Equal("", stream.Append(0xE6 + 3));
        Assert.Equal("\uFFFD", stream.Flush());
    }
}
