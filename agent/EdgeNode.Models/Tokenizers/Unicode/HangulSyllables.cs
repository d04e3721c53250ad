namespace EdgeNode.Models.Tokenizers.Unicode;

/// <summary>
/// The 11,172 precomposed Hangul syllables, which Unicode defines by arithmetic on the leading consonant, vowel and
/// trailing consonant jamo rather than by table entries (UAX #15, Hangul syllable composition).
/// </summary>
internal static class HangulSyllables
{
    private const int SyllableBase = 0xAC00, LeadingBase = 0x1100, VowelBase = 0x1161, TrailingBase = 0x11A7;
    private const int LeadingCount = 19, VowelCount = 21, TrailingCount = 28;
    private const int SyllablesPerLeading = VowelCount * TrailingCount;
    private const int SyllableCount = LeadingCount * SyllablesPerLeading;

    public static bool IsSyllable(int codePoint) => (uint)(codePoint - SyllableBase) < SyllableCount;

    /// <summary>The jamo of a syllable; trailing is 0 for a syllable without a final consonant.</summary>
    public static (int Leading, int Vowel, int Trailing) Split(int syllable)
    {
        var index = syllable - SyllableBase;
        var trailing = index % TrailingCount;
        return (
            LeadingBase + index / SyllablesPerLeading,
            VowelBase + index % SyllablesPerLeading / TrailingCount,
            trailing == 0 ? 0 : TrailingBase + trailing);
    }

    /// <summary>Leading + vowel → LV syllable; LV syllable + trailing → LVT syllable.</summary>
    public static bool TryCompose(int first, int second, out int syllable)
    {
        var leading = first - LeadingBase;
        var vowel = second - VowelBase;
        if ((uint)leading < LeadingCount && (uint)vowel < VowelCount)
        {
            syllable = SyllableBase + (leading * VowelCount + vowel) * TrailingCount;
            return true;
        }
        var index = first - SyllableBase;
        var trailing = second - TrailingBase;
        // Index 0 of the trailing jamo is "no final consonant"; only LV syllables (no final yet) take one.
        if ((uint)index < SyllableCount && index % TrailingCount == 0 && trailing > 0 && trailing < TrailingCount)
        {
            syllable = first + trailing;
            return true;
        }
        syllable = 0;
        return false;
    }
}
