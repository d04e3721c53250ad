using System.Buffers.Binary;

namespace EdgeNode.Pool.Slices;

/// <summary>What a slice request asks for.</summary>
public enum SliceRequestKind : byte
{
    /// <summary>The model's manifest.json, byte for byte; the body is the model's name (UTF-8).</summary>
    Manifest = 1,

    /// <summary>The slice index of the model's folder (JSON, <see cref="SliceIndex"/>); the body is the model's name.</summary>
    Index = 2,

    /// <summary>One chunk, by content: the body is the chunk's 32-byte sha256.</summary>
    Chunk = 3,
}

/// <summary>How a slice server answered.</summary>
public enum SliceResponseStatus : byte
{
    Ok = 0,
    NotFound = 1,
    BadRequest = 2,
    Busy = 3,
    ServerError = 4,
}

/// <summary>
/// The slice-transfer protocol's framing (docs/pool-slices.md): a 12-byte header, then a body. Request:
/// "ENSQ", version, kind, two reserved zero bytes, body length (uint32 little-endian, at most
/// <see cref="MaxRequestBody"/>). Response: "ENSR", version, status, two reserved zero bytes, body length (at most
/// <see cref="MaxResponseBody"/>); a body that is not Ok is a UTF-8 reason.
/// </summary>
public static class SliceWire
{
    public const byte Version = 1;
    public const int HeaderBytes = 12;
    public const int MaxRequestBody = 1024;
    public const int MaxResponseBody = 64 << 20;

    /// <summary>Chunks are 4 MiB unless a server is told otherwise: big enough that a request's round trip is noise
    /// next to its transfer, small enough that a refused or interrupted chunk costs little to fetch again.</summary>
    public const int DefaultChunkBytes = 4 << 20;

    public static ReadOnlySpan<byte> RequestMagic => "ENSQ"u8;
    public static ReadOnlySpan<byte> ResponseMagic => "ENSR"u8;

    public static void WriteRequestHeader(Span<byte> header, SliceRequestKind kind, int bodyLength)
    {
        RequestMagic.CopyTo(header);
        header[4] = Version;
        header[5] = (byte)kind;
        header[6] = 0;
        header[7] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)bodyLength);
    }

    public static void WriteResponseHeader(Span<byte> header, SliceResponseStatus status, int bodyLength)
    {
        ResponseMagic.CopyTo(header);
        header[4] = Version;
        header[5] = (byte)status;
        header[6] = 0;
        header[7] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)bodyLength);
    }

    /// <summary>Checks a request header; returns null and the kind and body length, or the reason it is refused.</summary>
    public static string? ReadRequestHeader(ReadOnlySpan<byte> header, out SliceRequestKind kind, out int bodyLength)
    {
        kind = (SliceRequestKind)header[5];
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        bodyLength = (int)Math.Min(length, int.MaxValue);
        if (!header[..4].SequenceEqual(RequestMagic))
            return "not a slice request (no ENSQ magic)";
        if (header[4] != Version)
            return $"protocol version {header[4]} is not {Version}";
        if (!Enum.IsDefined(kind))
            return $"unknown request kind {(byte)kind}";
        if (length > MaxRequestBody)
            return $"request body of {length} bytes is over the {MaxRequestBody}-byte limit";
        return null;
    }

    /// <summary>Checks a response header; returns null and the status and body length, or what is wrong with it.</summary>
    public static string? ReadResponseHeader(ReadOnlySpan<byte> header, out SliceResponseStatus status, out int bodyLength)
    {
        status = (SliceResponseStatus)header[5];
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        bodyLength = (int)Math.Min(length, int.MaxValue);
        if (!header[..4].SequenceEqual(ResponseMagic))
            return "the answer is not a slice response (no ENSR magic): is this port a slice server?";
        if (header[4] != Version)
            return $"the server speaks slice protocol version {header[4]}, this node {Version}";
        if (length > MaxResponseBody)
            return $"response body of {length} bytes is over the {MaxResponseBody}-byte limit";
        return null;
    }
}
