using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// The tokenizer.json "model" of type BPE: a piece starts as one symbol per character (or per byte, through
/// &lt;0xNN&gt; byte-fallback tokens, when a character is not in the vocabulary) and adjacent symbols are merged,
/// always the pair with the lowest merge rank first and the leftmost among equals, until no ranked pair is left.
/// </summary>
internal sealed class BytePairModel
{
    private readonly Dictionary<string, int> _vocabulary;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabularyBySpan;
    // Key: left id << 32 | right id. Value: merge rank << 32 | id of the merged symbol.
    private readonly Dictionary<long, long> _merges;
    private readonly int[] _byteFallbackIds; // id of <0xNN> per byte, or -1
    private readonly int _unknownId;
    private readonly bool _fuseUnknown;
    private readonly bool _ignoreMerges;

    private BytePairModel(Dictionary<string, int> vocabulary, Dictionary<long, long> merges, int[] byteFallbackIds, int unknownId, bool fuseUnknown, bool ignoreMerges)
    {
        _vocabulary = vocabulary;
        _vocabularyBySpan = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = merges;
        _byteFallbackIds = byteFallbackIds;
        _unknownId = unknownId;
        _fuseUnknown = fuseUnknown;
        _ignoreMerges = ignoreMerges;
    }

    public IReadOnlyDictionary<string, int> Vocabulary => _vocabulary;

    public static BytePairModel Parse(JsonElement element)
    {
        var type = TokenizerJson.OptionalString(element, "type") ?? "BPE";
        if (type != "BPE")
            throw new ModelFormatException($"tokenizer.json: model type '{type}' is not supported (only BPE: Llama, Mistral, Qwen, Gemma, GPT-2 families); this tokenizer cannot be loaded");
        if (!string.IsNullOrEmpty(TokenizerJson.OptionalString(element, "continuing_subword_prefix"))
            || !string.IsNullOrEmpty(TokenizerJson.OptionalString(element, "end_of_word_suffix")))
        {
            throw new ModelFormatException("tokenizer.json: BPE with continuing_subword_prefix or end_of_word_suffix (word-piece style BPE) is not supported");
        }

        var vocabElement = TokenizerJson.Property(element, "vocab");
        if (vocabElement.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException("tokenizer.json: model.vocab is missing or not an object; the file is malformed");
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
            vocabulary[entry.Name] = entry.Value.GetInt32();
        var vocabularyBySpan = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();

        var merges = new Dictionary<long, long>();
        var rank = 0;
        foreach (var merge in TokenizerJson.RequiredArray(element, "merges", "BPE model"))
        {
            // Two spellings exist: "left right" (older files) and ["left", "right"].
            string left, right;
            if (merge.ValueKind == JsonValueKind.String)
            {
                var text = merge.GetString()!;
                var space = text.IndexOf(' ', 1);
                if (space < 0)
                    throw new ModelFormatException($"tokenizer.json: merge {rank} \"{text}\" is not two tokens separated by a space");
                left = text[..space];
                right = text[(space + 1)..];
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                left = merge[0].GetString()!;
                right = merge[1].GetString()!;
            }
            else
            {
                throw new ModelFormatException($"tokenizer.json: merge {rank} is neither \"left right\" nor [left, right]");
            }
            if (vocabulary.TryGetValue(left, out var leftId) && vocabulary.TryGetValue(right, out var rightId)
                && vocabularyBySpan.TryGetValue(string.Concat(left, right), out var mergedId))
            {
                // An earlier rank wins when a file lists the same pair twice.
                merges.TryAdd(PairKey(leftId, rightId), (long)rank << 32 | (uint)mergedId);
            }
            rank++;
        }

        var byteFallbackIds = new int[256];
        Array.Fill(byteFallbackIds, -1);
        if (TokenizerJson.OptionalBool(element, "byte_fallback", false))
        {
            for (var b = 0; b < 256; b++)
            {
                if (vocabulary.TryGetValue(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"), out var id))
                    byteFallbackIds[b] = id;
            }
        }
        var unknownToken = TokenizerJson.OptionalString(element, "unk_token");
        var unknownId = unknownToken is not null && vocabulary.TryGetValue(unknownToken, out var unk) ? unk : -1;
        return new BytePairModel(
            vocabulary,
            merges,
            byteFallbackIds,
            unknownId,
            TokenizerJson.OptionalBool(element, "fuse_unk", false),
            TokenizerJson.OptionalBool(element, "ignore_merges", false));
    }

    /// <summary>Appends the ids of one pre-tokenized piece.</summary>
    public void Encode(ReadOnlySpan<char> piece, List<int> ids, MergeScratch scratch)
    {
        if (piece.IsEmpty)
            return;
        if (_ignoreMerges && _vocabularyBySpan.TryGetValue(piece, out var whole))
        {
            ids.Add(whole);
            return;
        }

        var symbols = scratch.Symbols;
        symbols.Clear();
        Span<byte> utf8 = stackalloc byte[4];
        var index = 0;
        while (index < piece.Length)
        {
            var length = char.IsHighSurrogate(piece[index]) && index + 1 < piece.Length && char.IsLowSurrogate(piece[index + 1]) ? 2 : 1;
            var character = piece.Slice(index, length);
            index += length;
            if (_vocabularyBySpan.TryGetValue(character, out var id))
            {
                symbols.Add(id);
                continue;
            }
            if (TryAddByteFallback(character, utf8, symbols))
                continue;
            if (_unknownId < 0)
                continue; // Without an unknown token the Rust crate drops the character.
            if (_fuseUnknown && symbols.Count > 0 && symbols[^1] == _unknownId)
                continue;
            symbols.Add(_unknownId);
        }
        if (symbols.Count == 0)
            return;
        Merge(scratch);
        // Position 0 is never merged away (a merge keeps its left symbol), so the live chain starts there.
        for (var position = 0; position >= 0; position = scratch.Next[position])
            ids.Add(symbols[position]);
    }

    private bool TryAddByteFallback(ReadOnlySpan<char> character, Span<byte> utf8, List<int> symbols)
    {
        if (_byteFallbackIds[0] < 0 && _byteFallbackIds[0xFF] < 0)
            return false;
        var count = Encoding.UTF8.GetBytes(character, utf8);
        for (var i = 0; i < count; i++)
        {
            if (_byteFallbackIds[utf8[i]] < 0)
                return false;
        }
        for (var i = 0; i < count; i++)
            symbols.Add(_byteFallbackIds[utf8[i]]);
        return true;
    }

    private void Merge(MergeScratch scratch)
    {
        var symbols = scratch.Symbols;
        var count = symbols.Count;
        scratch.Link(count);
        var next = scratch.Next;
        var previous = scratch.Previous;
        var queue = scratch.Queue;
        queue.Clear();
        for (var i = 0; i + 1 < count; i++)
        {
            if (_merges.TryGetValue(PairKey(symbols[i], symbols[i + 1]), out var rule))
                queue.Enqueue(i, Priority(rule, i));
        }

        while (queue.TryDequeue(out var left, out var priority))
        {
            // Entries go stale when a neighbour merged first; a live one still names the same pair and result.
            var right = next[left];
            if (previous[left] == Removed || right < 0)
                continue;
            if (!_merges.TryGetValue(PairKey(symbols[left], symbols[right]), out var rule) || Priority(rule, left) != priority)
                continue;

            symbols[left] = (int)(uint)rule;
            var after = next[right];
            next[left] = after;
            if (after >= 0)
                previous[after] = left;
            previous[right] = Removed;

            var before = previous[left];
            if (before >= 0 && _merges.TryGetValue(PairKey(symbols[before], symbols[left]), out var leftRule))
                queue.Enqueue(before, Priority(leftRule, before));
            if (after >= 0 && _merges.TryGetValue(PairKey(symbols[left], symbols[after]), out var rightRule))
                queue.Enqueue(left, Priority(rightRule, left));
        }
    }

    // Rank in the high half, position in the low half: lower rank first, then leftmost.
    private static long Priority(long rule, int position) => (rule >> 32) << 32 | (uint)position;

    private static long PairKey(int left, int right) => (long)left << 32 | (uint)right;

    internal const int Removed = -2;

    /// <summary>Per-call working memory of the merge loop, reused across the pieces of one Encode call.</summary>
    internal sealed class MergeScratch
    {
        public List<int> Symbols { get; } = new(64);

        public PriorityQueue<int, long> Queue { get; } = new();

        public int[] Next { get; private set; } = new int[64];

        // Previous symbol's position; -1 for the first symbol, Removed once merged into its left neighbour.
        public int[] Previous { get; private set; } = new int[64];

        public void Link(int count)
        {
            if (Next.Length < count)
            {
                Next = new int[Math.Max(count, Next.Length * 2)];
                Previous = new int[Next.Length];
            }
            for (var i = 0; i < count; i++)
            {
                Next[i] = i + 1 < count ? i + 1 : -1;
                Previous[i] = i - 1;
            }
        }
    }
}
