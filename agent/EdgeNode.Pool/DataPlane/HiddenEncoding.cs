namespace EdgeNode.Pool.DataPlane;

/// <summary>How hidden states are written in a <see cref="FrameType.Hidden"/> frame. Values are on the wire.</summary>
public enum HiddenEncoding : byte
{
    /// <summary>IEEE float32, little-endian: exact; 4 bytes per value.</summary>
    Fp32 = 0,

    /// <summary>IEEE float16, little-endian: 2 bytes per value, ~3 significant digits.</summary>
    Fp16 = 1,

    /// <summary>Per position: a float32 scale (absmax / 127), then one signed byte per value; dim + 4 bytes per position.</summary>
    Int8 = 2,
}

/// <summary>The flags field of a frame header.</summary>
[Flags]
public enum FrameFlags : ushort
{
    None = 0,

    /// <summary>The payload (after encoding) is one zstd frame.</summary>
    Zstd = 1 << 4,
}

public static class HiddenEncodingNames
{
    /// <summary>Bits 0..3 of the flags: the hidden-state encoding.</summary>
    internal const ushort EncodingMask = 0x000F;

    public static string ToName(this HiddenEncoding encoding) => encoding switch
    {
        HiddenEncoding.Fp32 => "fp32",
        HiddenEncoding.Fp16 => "fp16",
        HiddenEncoding.Int8 => "int8",
        _ => encoding.ToString(),
    };

    /// <summary>Parses fp32, fp16, int8, or any of them with +zstd (e.g. int8+zstd).</summary>
    public static (HiddenEncoding Encoding, bool Zstd) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var zstd = text.EndsWith("+zstd", StringComparison.OrdinalIgnoreCase);
        var name = zstd ? text[..^5] : text;
        HiddenEncoding encoding = name.ToLowerInvariant() switch
        {
            "fp32" => HiddenEncoding.Fp32,
            "fp16" => HiddenEncoding.Fp16,
            "int8" => HiddenEncoding.Int8,
            _ => throw new ArgumentException($"hidden-state encoding '{text}' is not one of fp32, fp16, int8 (optionally with +zstd)"),
        };
        return (encoding, zstd);
    }

    public static string ToName(HiddenEncoding encoding, bool zstd) => zstd ? encoding.ToName() + "+zstd" : encoding.ToName();
}
