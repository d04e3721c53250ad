namespace EdgeNode.Models.Tokenizers.HuggingFace;

/// <summary>
/// GPT-2's reversible byte ↔ character table: byte-level vocabularies store every byte as a printable character
/// so merges never see whitespace or control characters. Printable Latin-1 bytes stand for themselves; the other
/// 68 bytes take the characters from U+0100 upwards, in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> s_charToByte = BuildCharToByte(s_byteToChar);

    public static char CharOf(byte value) => s_byteToChar[value];

    public static bool TryGetByte(char c, out byte value) => s_charToByte.TryGetValue(c, out value);

    /// <summary>Maps the UTF-8 bytes of <paramref name="text"/> to alphabet characters.</summary>
    public static string FromText(ReadOnlySpan<char> text)
    {
        var byteCount = System.Text.Encoding.UTF8.GetByteCount(text);
        var bytes = byteCount <= 512 ? stackalloc byte[byteCount] : new byte[byteCount];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        var chars = byteCount <= 512 ? stackalloc char[byteCount] : new char[byteCount];
        for (var i = 0; i < bytes.Length; i++)
            chars[i] = s_byteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    private static Dictionary<char, byte> BuildCharToByte(char[] byteToChar)
    {
        var map = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++)
            map[byteToChar[b]] = (byte)b;
        return map;
    }
}
