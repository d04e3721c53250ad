using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ZstdSharp;

namespace EdgeNode.Pool.DataPlane;

/// <summary>
/// Hidden states [positions][dim] to bytes and back: fp32 (exact), fp16, or int8 with one float32 absmax scale per
/// position (a position's values share a scale; one outlier only coarsens its own position), optionally zstd.
/// <para>
/// One codec per thread: it owns its zstd contexts and scratch buffers, which grow to the largest frame seen and are
/// then reused, so a decode step allocates nothing.
/// </para>
/// </summary>
public sealed class HiddenStateCodec : IDisposable
{
    /// <summary>zstd level 1: activations are noisy floats that higher levels barely shrink further, and time per hop counts.</summary>
    public const int ZstdLevel = 1;

    private Compressor? _compressor;
    private Decompressor? _decompressor;
    private byte[] _scratch = [];

    /// <summary>Bytes of <paramref name="positions"/> positions of <paramref name="dim"/> values, before compression.</summary>
    public static int EncodedLength(HiddenEncoding encoding, int positions, int dim) => encoding switch
    {
        HiddenEncoding.Fp32 => checked(positions * dim * 4),
        HiddenEncoding.Fp16 => checked(positions * dim * 2),
        HiddenEncoding.Int8 => checked(positions * (dim + 4)),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "unknown hidden-state encoding"),
    };

    /// <summary>Encodes <paramref name="hidden"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Encode(ReadOnlySpan<float> hidden, int dim, HiddenEncoding encoding, Span<byte> destination)
    {
        if (dim <= 0 || hidden.Length % dim != 0)
            throw new ArgumentException($"hidden states must be whole rows of {dim} values, got {hidden.Length}", nameof(hidden));
        var positions = hidden.Length / dim;
        var length = EncodedLength(encoding, positions, dim);
        if (destination.Length < length)
            throw new ArgumentException($"{length} bytes needed, {destination.Length} given", nameof(destination));
        switch (encoding)
        {
            case HiddenEncoding.Fp32:
                // Every target EdgeNode runs on is little-endian: the floats are the wire format as they are.
                MemoryMarshal.AsBytes(hidden).CopyTo(destination);
                break;
            case HiddenEncoding.Fp16:
                var halves = MemoryMarshal.Cast<byte, Half>(destination[..length]);
                for (var i = 0; i < hidden.Length; i++)
                    halves[i] = (Half)hidden[i];
                break;
            case HiddenEncoding.Int8:
                for (var p = 0; p < positions; p++)
                {
                    var row = hidden.Slice(p * dim, dim);
                    var output = destination.Slice(p * (dim + 4), dim + 4);
                    var absMax = 0f;
                    foreach (var v in row)
                        absMax = MathF.Max(absMax, MathF.Abs(v));
                    var scale = absMax / 127f;
                    BinaryPrimitives.WriteSingleLittleEndian(output, scale);
                    var values = MemoryMarshal.Cast<byte, sbyte>(output[4..]);
                    var inverse = scale > 0 ? 1f / scale : 0f;
                    for (var i = 0; i < dim; i++)
                        values[i] = (sbyte)Math.Clamp(MathF.Round(row[i] * inverse), -127f, 127f);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "unknown hidden-state encoding");
        }
        return length;
    }

    /// <summary>Decodes exactly <c>destination.Length / dim</c> positions from <paramref name="source"/>.</summary>
    public static void Decode(ReadOnlySpan<byte> source, int dim, HiddenEncoding encoding, Span<float> destination)
    {
        if (dim <= 0 || destination.Length % dim != 0)
            throw new ArgumentException($"destination must be whole rows of {dim} values", nameof(destination));
        var positions = destination.Length / dim;
        var length = EncodedLength(encoding, positions, dim);
        if (source.Length != length)
            throw new InvalidDataException($"{encoding.ToName()} hidden states of {positions} positions x {dim} take {length} bytes, the payload has {source.Length}");
        switch (encoding)
        {
            case HiddenEncoding.Fp32:
                source.CopyTo(MemoryMarshal.AsBytes(destination));
                break;
            case HiddenEncoding.Fp16:
                var halves = MemoryMarshal.Cast<byte, Half>(source);
                for (var i = 0; i < destination.Length; i++)
                    destination[i] = (float)halves[i];
                break;
            case HiddenEncoding.Int8:
                for (var p = 0; p < positions; p++)
                {
                    var input = source.Slice(p * (dim + 4), dim + 4);
                    var scale = BinaryPrimitives.ReadSingleLittleEndian(input);
                    var values = MemoryMarshal.Cast<byte, sbyte>(input[4..]);
                    var row = destination.Slice(p * dim, dim);
                    for (var i = 0; i < dim; i++)
                        row[i] = values[i] * scale;
                }
                break;
            default:
                throw new InvalidDataException($"unknown hidden-state encoding {(int)encoding}");
        }
    }

    /// <summary>
    /// Writes a whole <see cref="FrameType.Hidden"/> frame for <paramref name="hidden"/> into <paramref name="writer"/>;
    /// the header's encoding, zstd flag and position count are set here. Returns the frame's bytes on the wire.
    /// </summary>
    public int WriteFrame(IBufferWriter<byte> writer, FrameHeader header, ReadOnlySpan<float> hidden, int dim, HiddenEncoding encoding, bool zstd)
    {
        header.Type = FrameType.Hidden;
        return WriteFrameCore(writer, header, hidden, dim, encoding, zstd, default, prefixed: false);
    }

    /// <summary>
    /// Writes a whole <see cref="FrameType.VerifyHidden"/> frame: <paramref name="draftBlock"/> behind its uint32 length,
    /// then <paramref name="hidden"/> encoded as for a Hidden frame (zstd, when on, covers the hidden states only).
    /// </summary>
    public int WriteVerifyFrame(IBufferWriter<byte> writer, FrameHeader header, ReadOnlySpan<byte> draftBlock, ReadOnlySpan<float> hidden, int dim, HiddenEncoding encoding, bool zstd)
    {
        header.Type = FrameType.VerifyHidden;
        return WriteFrameCore(writer, header, hidden, dim, encoding, zstd, draftBlock, prefixed: true);
    }

    private int WriteFrameCore(IBufferWriter<byte> writer, FrameHeader header, ReadOnlySpan<float> hidden, int dim, HiddenEncoding encoding, bool zstd, ReadOnlySpan<byte> prefix, bool prefixed)
    {
        var positions = hidden.Length / dim;
        var length = EncodedLength(encoding, positions, dim);
        var before = prefixed ? 4 + prefix.Length : 0;
        header.Encoding = encoding;
        header.Flags = zstd ? header.Flags | FrameFlags.Zstd : header.Flags & ~FrameFlags.Zstd;
        header.PositionCount = positions;
        if (!zstd)
        {
            var span = writer.GetSpan(FrameHeader.Size + before + length);
            WritePrefix(span[FrameHeader.Size..], prefix, prefixed);
            Encode(hidden, dim, encoding, span[(FrameHeader.Size + before)..]);
            return FrameWriter.Complete(writer, span, header, before + length);
        }
        var scratch = Scratch(length);
        Encode(hidden, dim, encoding, scratch);
        var bound = Compressor.GetCompressBound(length);
        var target = writer.GetSpan(FrameHeader.Size + before + bound);
        WritePrefix(target[FrameHeader.Size..], prefix, prefixed);
        _compressor ??= new Compressor(ZstdLevel);
        var written = _compressor.Wrap(scratch.AsSpan(0, length), target[(FrameHeader.Size + before)..]);
        return FrameWriter.Complete(writer, target, header, before + written);
    }

    private static void WritePrefix(Span<byte> destination, ReadOnlySpan<byte> prefix, bool prefixed)
    {
        if (!prefixed)
            return;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)prefix.Length);
        prefix.CopyTo(destination[4..]);
    }

    /// <summary>Splits a <see cref="FrameType.VerifyHidden"/> payload into its draft block and its hidden states.</summary>
    /// <exception cref="InvalidDataException">The block's length runs past the payload.</exception>
    public static void SplitVerifyPayload(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> draftBlock, out ReadOnlySpan<byte> hidden)
    {
        if (payload.Length < 4)
            throw new InvalidDataException($"a VerifyHidden payload starts with a 4-byte draft block length, got {payload.Length} bytes");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (length > (uint)(payload.Length - 4))
            throw new InvalidDataException($"a VerifyHidden payload declares a draft block of {length} bytes but holds {payload.Length - 4}");
        draftBlock = payload.Slice(4, (int)length);
        hidden = payload[(4 + (int)length)..];
    }

    /// <summary>
    /// Decodes the hidden states of a Hidden frame's payload into <paramref name="destination"/> (positions x dim);
    /// throws <see cref="InvalidDataException"/> when the payload does not hold exactly that.
    /// </summary>
    public void ReadPayload(in FrameHeader header, ReadOnlySpan<byte> payload, int dim, Span<float> destination)
    {
        var length = EncodedLength(header.Encoding, header.PositionCount, dim);
        if (!header.Zstd)
        {
            Decode(payload, dim, header.Encoding, destination);
            return;
        }
        var scratch = Scratch(length);
        _decompressor ??= new Decompressor();
        int written;
        try
        {
            written = _decompressor.Unwrap(payload, scratch.AsSpan(0, length));
        }
        catch (ZstdException e)
        {
            throw new InvalidDataException($"the zstd payload does not decompress to {length} bytes: {e.Message}", e);
        }
        if (written != length)
            throw new InvalidDataException($"the zstd payload decompressed to {written} bytes, {length} expected");
        Decode(scratch.AsSpan(0, length), dim, header.Encoding, destination);
    }

    private byte[] Scratch(int length)
    {
        if (_scratch.Length < length)
            _scratch = new byte[Math.Max(length, 2 * _scratch.Length)];
        return _scratch;
    }

    public void Dispose()
    {
        _compressor?.Dispose();
        _decompressor?.Dispose();
    }
}
