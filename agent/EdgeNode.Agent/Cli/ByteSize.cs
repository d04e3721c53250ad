using System.Globalization;

namespace EdgeNode.Agent.Cli;

/// <summary>Sizes as users type them: 512M, 4G, 4294967296.</summary>
public static class ByteSize
{
    public static long Parse(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToUpperInvariant().TrimEnd('B');
        var multiplier = t.EndsWith('K') ? 1L << 10 : t.EndsWith('M') ? 1L << 20 : t.EndsWith('G') ? 1L << 30 : t.EndsWith('T') ? 1L << 40 : 1L;
        var number = multiplier == 1 ? t : t[..^1];
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? (long)(value * multiplier)
            : throw new UsageException($"{option} '{text}' is not a size like 512M, 4G or 4294967296");
    }
}
