using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EdgeNode.Models.Tokenizers.Unicode;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

/// <summary>
/// UnicodeNormalizer against node's String.prototype.normalize (ICU): a corpus of hard cases, and a sweep over every
/// code point of planes 0–3 and 14, each alone and followed by marks or jamo that make it compose.
/// </summary>
public sealed class UnicodeNormalizerTests : IClassFixture<UnicodeNormalizerTests.PeerResults>
{
    private static readonly NormalizationForm[] Forms = [NormalizationForm.FormC, NormalizationForm.FormD, NormalizationForm.FormKC, NormalizationForm.FormKD];

    // Each suffix is in canonical order, so a sweep entry changes only where the code point decomposes or composes.
    // U+0334 (class 1) sits between the code point and U+0327 (202) / U+0301 (230) without blocking them; the jamo
    // build LV and LVT syllables from leading consonants and LV syllables.
    private static readonly string[] Suffixes = ["", "\u0301", "\u0334\u0327\u0301", "\u1161\u11a8", "\u11a8"];
    private static readonly (int First, int Last)[] Ranges = [(0, 0x3FFFF), (0xE0000, 0xE0FFF)];

    private readonly PeerResults _peer;

    public UnicodeNormalizerTests(PeerResults peer) => _peer = peer;

    [Fact]
    public void Corpus_matches_the_node_peer_in_every_form()
    {
        var failures = new List<string>();
        for (var i = 0; i < _peer.Corpus.Length; i++)
        {
            for (var f = 0; f < Forms.Length; f++)
            {
                var ours = UnicodeNormalizer.Normalize(_peer.Corpus[i], Forms[f]);
                if (ours != _peer.CorpusResults[i][f])
                    failures.Add($"{Forms[f]} of {Escape(_peer.Corpus[i])}:\n  peer {Escape(_peer.CorpusResults[i][f])}\n  ours {Escape(ours)}");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Every_code_point_with_composing_suffixes_matches_the_node_peer()
    {
        var ours = new Dictionary<(int, int, int), string>();
        foreach (var (first, last) in Ranges)
        {
            for (var codePoint = first; codePoint <= last; codePoint++)
            {
                if (codePoint is >= 0xD800 and <= 0xDFFF)
                    continue;
                var character = char.ConvertFromUtf32(codePoint);
                for (var s = 0; s < Suffixes.Length; s++)
                {
                    var text = character + Suffixes[s];
                    for (var f = 0; f < Forms.Length; f++)
                    {
                        var result = UnicodeNormalizer.Normalize(text, Forms[f]);
                        if (result != text)
                            ours[(codePoint, s, f)] = result;
                    }
                }
            }
        }

        var differing = new SortedDictionary<int, string>();
        foreach (var (key, peerResult) in _peer.SweepChanges)
        {
            if (!ours.TryGetValue(key, out var result) || result != peerResult)
                differing.TryAdd(key.Item1, $"{Forms[key.Item3]} of U+{key.Item1:X4}{Escape(Suffixes[key.Item2])}: peer {Escape(peerResult)}, ours {Escape(result ?? "(unchanged)")}");
        }
        foreach (var (key, result) in ours)
        {
            if (!_peer.SweepChanges.ContainsKey(key))
                differing.TryAdd(key.Item1, $"{Forms[key.Item3]} of U+{key.Item1:X4}{Escape(Suffixes[key.Item2])}: peer (unchanged), ours {Escape(result)}");
        }

        // The tables hold Unicode as Python's unicodedata knows it; node's ICU may be newer. Code points that were
        // not yet assigned in the tables' version are the only differences allowed, and Python says which they are.
        var assigned = AssignedInTableVersion(differing.Keys);
        var failures = differing.Where(d => assigned.Contains(d.Key)).Select(d => d.Value).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} code points differ from node (Unicode {_peer.PeerUnicode}) although assigned in Unicode {UnicodeNormalizer.UnicodeVersion}:\n{string.Join('\n', failures.Take(40))}");
        Assert.True(ours.Count > 20000, $"the sweep found only {ours.Count} changes; node found {_peer.SweepChanges.Count}");
    }

    [Fact]
    public void Normalized_text_comes_back_as_the_same_instance()
    {
        foreach (var text in new[] { "plain ASCII", "café 한국어 日本語 👍", string.Empty })
            Assert.Same(text, UnicodeNormalizer.Normalize(text, NormalizationForm.FormC));
        var ascii = "only ASCII here";
        foreach (var form in Forms)
            Assert.Same(ascii, UnicodeNormalizer.Normalize(ascii, form));
        // Not normalized: a new string with the composed character.
        Assert.Equal("\u00e9", UnicodeNormalizer.Normalize("e\u0301", NormalizationForm.FormC));
    }

    [Fact]
    public void Unpaired_surrogates_pass_through()
    {
        Assert.Equal("a\ud800\u00e9", UnicodeNormalizer.Normalize("a\ud800e\u0301", NormalizationForm.FormC));
        Assert.Equal("\udc00e\u0301", UnicodeNormalizer.Normalize("\udc00\u00e9", NormalizationForm.FormD));
    }

    [Fact]
    public void An_unknown_form_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => UnicodeNormalizer.Normalize("x", (NormalizationForm)3));
        Assert.Contains("C, D, KC or KD", error.Message);
    }

    private static HashSet<int> AssignedInTableVersion(IEnumerable<int> codePoints)
    {
        var list = codePoints.ToList();
        if (list.Count == 0)
            return [];
        const string Script = "import sys, unicodedata\nprint(unicodedata.unidata_version)\nfor line in sys.stdin:\n    cp = int(line)\n    if unicodedata.category(chr(cp)) != 'Cn':\n        print(cp)\n";
        var output = PeerProcess.Run("python3", ["-c", Script], string.Join('\n', list));
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length > 0 && lines[0] == UnicodeNormalizer.UnicodeVersion,
            $"python3 has Unicode {(lines.Length > 0 ? lines[0] : "?")} but the tables were generated from {UnicodeNormalizer.UnicodeVersion}: run agent/EdgeNode.Models/Tokenizers/Unicode/generate-normalization-tables.py again");
        return [.. lines.Skip(1).Select(int.Parse)];
    }

    private static string Escape(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
            builder.Append(c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}");
        return builder.Append('"').ToString();
    }

    /// <summary>Runs the node peer once for the corpus and the sweep.</summary>
    public sealed class PeerResults
    {
        public PeerResults()
        {
            var testFolder = Path.Combine(TestPaths.RepoRoot, "tests", "EdgeNode.Models.Tests", "Tokenizers");
            using (var corpus = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(testFolder, "normalization-corpus.json"))))
                Corpus = [.. corpus.RootElement.EnumerateArray().Select(e => e.GetString()!)];

            var request = new MemoryStream();
            using (var writer = new Utf8JsonWriter(request))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("texts");
                foreach (var text in Corpus)
                    writer.WriteStringValue(text);
                writer.WriteEndArray();
                writer.WriteStartArray("ranges");
                foreach (var (first, last) in Ranges)
                {
                    writer.WriteStartArray();
                    writer.WriteNumberValue(first);
                    writer.WriteNumberValue(last);
                    writer.WriteEndArray();
                }
                writer.WriteEndArray();
                writer.WriteStartArray("suffixes");
                foreach (var suffix in Suffixes)
                    writer.WriteStringValue(suffix);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            var output = PeerProcess.RunNode(Path.Combine(testFolder, "peer", "normalize.mjs"), Encoding.UTF8.GetString(request.ToArray()));
            using var document = JsonDocument.Parse(output);
            var root = document.RootElement;
            PeerUnicode = root.GetProperty("unicode").GetString() ?? "";
            CorpusResults = [.. root.GetProperty("texts").EnumerateArray().Select(forms => forms.EnumerateArray().Select(e => e.GetString()!).ToArray())];
            foreach (var entry in root.GetProperty("changed").EnumerateArray())
                SweepChanges[(entry[0].GetInt32(), entry[1].GetInt32(), entry[2].GetInt32())] = entry[3].GetString()!;
        }

        internal string[] Corpus { get; }

        internal string[][] CorpusResults { get; }

        internal string PeerUnicode { get; }

        internal Dictionary<(int CodePoint, int Suffix, int Form), string> SweepChanges { get; } = [];
    }
}
