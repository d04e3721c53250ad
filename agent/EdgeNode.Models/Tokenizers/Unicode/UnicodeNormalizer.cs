using System.Buffers;
using System.Text;

namespace EdgeNode.Models.Tokenizers.Unicode;

/// <summary>
/// Unicode normalization forms C, D, KC and KD (UAX #15) from tables generated out of Python's unicodedata. The
/// agent builds with InvariantGlobalization, where string.Normalize has no ICU behind it and leaves text as it is;
/// tokenizers whose files ask for NFC (Qwen) or NFKC would then split decomposed accents into the wrong tokens.
/// </summary>
/// <remarks>
/// Text that passes the quick check (all ASCII, or already normalized as far as the per-character properties can
/// tell) comes back as the very same string without allocating. Characters assigned after
/// <see cref="UnicodeVersion"/> pass through unchanged. Unpaired surrogates are kept as they are.
/// </remarks>
public static class UnicodeNormalizer
{
    // Flag bits written by generate-normalization-tables.py.
    private const byte NfdNo = 1, NfkdNo = 2, NfcNo = 4, NfkcNo = 8, ComposesWithPrevious = 16;

    /// <summary>The Unicode version of the tables (the unicodedata of the Python that generated them).</summary>
    public static string UnicodeVersion => NormalizationTables.UnicodeVersion;

    public static string Normalize(string text, NormalizationForm form)
    {
        ArgumentNullException.ThrowIfNull(text);
        var (compose, compatibility, noFlag) = form switch
        {
            NormalizationForm.FormC => (true, false, NfcNo),
            NormalizationForm.FormD => (false, false, NfdNo),
            NormalizationForm.FormKC => (true, true, NfkcNo),
            NormalizationForm.FormKD => (false, true, NfkdNo),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "not a Unicode normalization form (C, D, KC or KD)"),
        };
        if (PassesQuickCheck(text, noFlag, compose))
            return text;
        var normalized = Rewrite(text, compatibility, compose);
        return string.Equals(normalized, text, StringComparison.Ordinal) ? text : normalized;
    }

    /// <summary>
    /// UAX #15 quick check, with "maybe" treated as "no": true means <paramref name="text"/> is certainly in the form.
    /// </summary>
    private static bool PassesQuickCheck(ReadOnlySpan<char> text, byte noFlag, bool compose)
    {
        var start = text.IndexOfAnyExceptInRange('\0', '\u007F');
        if (start < 0)
            return true;
        var flagsTable = NormalizationTables.RecordFlags;
        var classTable = NormalizationTables.RecordCombiningClass;
        var lastClass = 0;
        for (var i = start; i < text.Length; i++)
        {
            int codePoint = text[i];
            if (codePoint < 0x80)
            {
                lastClass = 0;
                continue;
            }
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }
            if (HangulSyllables.IsSyllable(codePoint))
            {
                if (!compose)
                    return false;
                lastClass = 0;
                continue;
            }
            var record = RecordOf(codePoint);
            int combiningClass = classTable[record];
            if (combiningClass != 0 && lastClass > combiningClass)
                return false;
            var flags = flagsTable[record];
            if ((flags & noFlag) != 0 || (compose && (flags & ComposesWithPrevious) != 0))
                return false;
            lastClass = combiningClass;
        }
        return true;
    }

    private static string Rewrite(string text, bool compatibility, bool compose)
    {
        var buffer = new CodePoints(text.Length + 16);
        try
        {
            for (var i = 0; i < text.Length; i++)
            {
                int codePoint = text[i];
                if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    codePoint = char.ConvertToUtf32(text[i], text[i + 1]);
                    i++;
                }
                Decompose(codePoint, compatibility, ref buffer);
            }
            if (compose)
                Compose(ref buffer);
            return buffer.ToText();
        }
        finally
        {
            buffer.Return();
        }
    }

    private static void Decompose(int codePoint, bool compatibility, ref CodePoints buffer)
    {
        if (HangulSyllables.IsSyllable(codePoint))
        {
            var (leading, vowel, trailing) = HangulSyllables.Split(codePoint);
            buffer.Append(leading, 0);
            buffer.Append(vowel, 0);
            if (trailing != 0)
                buffer.Append(trailing, 0);
            return;
        }
        var record = RecordOf(codePoint);
        var length = compatibility ? NormalizationTables.RecordCompatibilityLength[record] : NormalizationTables.RecordCanonicalLength[record];
        if (length == 0)
        {
            buffer.Append(codePoint, NormalizationTables.RecordCombiningClass[record]);
            return;
        }
        var startAt = compatibility ? NormalizationTables.RecordCompatibilityStart[record] : NormalizationTables.RecordCanonicalStart[record];
        var decomposition = NormalizationTables.Decompositions.Slice(startAt, length);
        for (var i = 0; i < decomposition.Length; i++)
        {
            int part = decomposition[i];
            if (char.IsHighSurrogate(decomposition[i]))
            {
                part = char.ConvertToUtf32(decomposition[i], decomposition[i + 1]);
                i++;
            }
            buffer.Append(part, CombiningClass(part));
        }
    }

    /// <summary>The canonical composition algorithm of UAX #15, in place over the decomposed, ordered code points.</summary>
    private static void Compose(ref CodePoints buffer)
    {
        var points = buffer.Points;
        var count = buffer.Count;
        if (count == 0)
            return;
        var starterAt = 0;
        var starter = points[0];
        // A text that opens with a non-starter has nothing for it to compose with.
        var lastClass = CombiningClass(starter) == 0 ? 0 : 256;
        var written = 1;
        for (var read = 1; read < count; read++)
        {
            var codePoint = points[read];
            var combiningClass = CombiningClass(codePoint);
            // A character composes with the last starter unless something between them blocks it: a mark of the
            // same or higher class, or any starter.
            if ((lastClass < combiningClass || lastClass == 0) && TryCompose(starter, codePoint, out var composite))
            {
                points[starterAt] = composite;
                starter = composite;
                continue;
            }
            if (combiningClass == 0)
            {
                starterAt = written;
                starter = codePoint;
            }
            lastClass = combiningClass;
            points[written++] = codePoint;
        }
        buffer.Count = written;
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        if (HangulSyllables.TryCompose(first, second, out composite))
            return true;
        var pairs = NormalizationTables.CompositionPairs;
        var at = pairs.BinarySearch(((long)first << 21) | (uint)second);
        if (at < 0)
        {
            composite = 0;
            return false;
        }
        composite = NormalizationTables.Composites[at];
        return true;
    }

    private static byte CombiningClass(int codePoint) => NormalizationTables.RecordCombiningClass[RecordOf(codePoint)];

    private static int RecordOf(int codePoint)
    {
        var blocks = NormalizationTables.Blocks;
        var block = codePoint >> NormalizationTables.BlockShift;
        if ((uint)block >= (uint)blocks.Length)
            return 0;
        return NormalizationTables.BlockRecords[(blocks[block] << NormalizationTables.BlockShift) | (codePoint & NormalizationTables.BlockMask)];
    }

    /// <summary>Decomposed code points kept in canonical order as they arrive, in a pooled array.</summary>
    private struct CodePoints
    {
        private int[] _points;
        private byte[] _classes;

        public CodePoints(int capacity)
        {
            _points = ArrayPool<int>.Shared.Rent(capacity);
            _classes = ArrayPool<byte>.Shared.Rent(capacity);
            Count = 0;
        }

        public readonly int[] Points => _points;

        public int Count { get; set; }

        /// <summary>Appends, moving a non-starter back past marks of a higher class (the canonical ordering).</summary>
        public void Append(int codePoint, byte combiningClass)
        {
            if (Count == _points.Length)
                Grow();
            var at = Count++;
            if (combiningClass != 0)
            {
                while (at > 0 && _classes[at - 1] > combiningClass)
                {
                    _points[at] = _points[at - 1];
                    _classes[at] = _classes[at - 1];
                    at--;
                }
            }
            _points[at] = codePoint;
            _classes[at] = combiningClass;
        }

        public readonly string ToText()
        {
            var builder = new StringBuilder(Count + 8);
            for (var i = 0; i < Count; i++)
            {
                var codePoint = _points[i];
                if (codePoint >= 0x10000)
                {
                    var offset = codePoint - 0x10000;
                    builder.Append((char)(0xD800 + (offset >> 10))).Append((char)(0xDC00 + (offset & 0x3FF)));
                    continue;
                }
                builder.Append((char)codePoint);
            }
            return builder.ToString();
        }

        public readonly void Return()
        {
            ArrayPool<int>.Shared.Return(_points);
            ArrayPool<byte>.Shared.Return(_classes);
        }

        private void Grow()
        {
            var points = ArrayPool<int>.Shared.Rent(_points.Length * 2);
            var classes = ArrayPool<byte>.Shared.Rent(_points.Length * 2);
            _points.AsSpan(0, Count).CopyTo(points);
            _classes.AsSpan(0, Count).CopyTo(classes);
            ArrayPool<int>.Shared.Return(_points);
            ArrayPool<byte>.Shared.Return(_classes);
            _points = points;
            _classes = classes;
        }
    }
}
