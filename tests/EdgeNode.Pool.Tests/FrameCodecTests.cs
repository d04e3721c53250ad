using System.Buffers;
using System.Text;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Tests;

/// <summary>The frame format and the hidden-state codec, byte by byte.</summary>
public sealed class FrameCodecTests
{
    [Fact]
    public void Crc32CMatchesTheStandardCheckValueAndTheTable()
    {
        // The check value of CRC-32C (iSCSI) over the ASCII digits 1..9.
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        var random = new Random(5);
        foreach (var length in new[] { 0, 1, 7, 8, 9, 63, 64, 1000, 4099 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Crc32C.ComputeWithTable(data), Crc32C.Compute(data));
        }
    }

    [Fact]
    public void AFrameRoundTripsEvenWhenSplitAcrossBufferSegments()
    {
        var header = new FrameHeader(FrameType.Hidden, 0x0123456789ABCDEF, 42) { Step = 7, FirstPosition = 100, PositionCount = 3, Encoding = HiddenEncoding.Int8 };
        var payload = Encoding.UTF8.GetBytes("payload bytes of some length, " + new string('z', 300));
        var bytes = RawPeer.Frame(header, payload);
        Assert.Equal(FrameHeader.Size + payload.Length, bytes.Length);

        foreach (var cut in new[] { 1, 5, 13, 47, 48, 49, 200 })
        {
            var sequence = Segments(bytes, cut);
            var status = FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out var frame, out var rejection, out _);
            Assert.Equal(ParseStatus.Frame, status);
            Assert.Equal(FrameRejection.None, rejection);
            Assert.True(sequence.IsEmpty);
            var h = frame.Header;
            Assert.Equal((FrameType.Hidden, 0x0123456789ABCDEFUL, 42L, 7, 100, 3, HiddenEncoding.Int8, payload.Length),
                (h.Type, h.SessionId, h.Epoch, h.Step, h.FirstPosition, h.PositionCount, h.Encoding, h.PayloadLength));
            Assert.Equal(payload, frame.Payload.ToArray());
        }
    }

    [Fact]
    public void ATruncatedFrameWaitsForTheRestAndTwoFramesComeApart()
    {
        var first = RawPeer.Frame(new FrameHeader(FrameType.Token, 1, 1), BitConverter.GetBytes(5));
        var second = RawPeer.Frame(new FrameHeader(FrameType.End, 2, 1), default);
        byte[] both = [.. first, .. second];
        for (var length = 0; length < first.Length; length++)
        {
            var partial = new ReadOnlySequence<byte>(both, 0, length);
            Assert.Equal(ParseStatus.NeedMore, FrameParser.TryRead(ref partial, DataPlaneLimits.MaxPayloadBytes, out _, out _, out _));
            Assert.Equal(length, partial.Length);
        }
        var sequence = new ReadOnlySequence<byte>(both);
        Assert.Equal(ParseStatus.Frame, FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out var a, out _, out _));
        Assert.Equal(ParseStatus.Frame, FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out var b, out _, out _));
        Assert.Equal((FrameType.Token, 1UL), (a.Header.Type, a.Header.SessionId));
        Assert.Equal((FrameType.End, 2UL), (b.Header.Type, b.Header.SessionId));
        Assert.Equal(ParseStatus.NeedMore, FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out _, out _, out _));
    }

    [Fact]
    public void BadFramesAreSkippedOrBreakTheStreamAsTheyMust()
    {
        var good = RawPeer.Frame(new FrameHeader(FrameType.Hidden, 9, 1) { PositionCount = 1 }, new byte[256]);

        // Every single flipped bit outside the magic and lengths is caught by the checksum.
        for (var at = 0; at < good.Length; at += 7)
        {
            if (at < 16 && at is not (5 or 6 or 7))
                continue;
            var bad = (byte[])good.Clone();
            bad[at] ^= 0x01;
            var sequence = new ReadOnlySequence<byte>(bad);
            Assert.Equal(ParseStatus.Skipped, FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out _, out var rejection, out _));
            Assert.Equal(FrameRejection.BadChecksum, rejection);
            Assert.True(sequence.IsEmpty, "a skipped frame is taken off the buffer whole");
        }

        var future = (byte[])good.Clone();
        future[4] = 2;
        var s = new ReadOnlySequence<byte>(future);
        Assert.Equal(ParseStatus.Skipped, FrameParser.TryRead(ref s, DataPlaneLimits.MaxPayloadBytes, out _, out var r, out var h));
        Assert.Equal((FrameRejection.UnknownVersion, (byte)2), (r, h.Version));

        var notAFrame = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(new string('G', 64)));
        Assert.Equal(ParseStatus.Broken, FrameParser.TryRead(ref notAFrame, DataPlaneLimits.MaxPayloadBytes, out _, out r, out _));
        Assert.Equal(FrameRejection.BadMagic, r);

        var huge = (byte[])good.Clone();
        BitConverter.TryWriteBytes(huge.AsSpan(12), DataPlaneLimits.MaxPayloadBytes + 1);
        s = new ReadOnlySequence<byte>(huge);
        Assert.Equal(ParseStatus.Broken, FrameParser.TryRead(ref s, DataPlaneLimits.MaxPayloadBytes, out _, out r, out _));
        Assert.Equal(FrameRejection.BadLength, r);
    }

    [Theory]
    [InlineData(HiddenEncoding.Fp32, false)]
    [InlineData(HiddenEncoding.Fp16, false)]
    [InlineData(HiddenEncoding.Int8, false)]
    [InlineData(HiddenEncoding.Fp32, true)]
    [InlineData(HiddenEncoding.Int8, true)]
    public void HiddenStatesRoundTripWithinTheEncodingsBound(HiddenEncoding encoding, bool zstd)
    {
        const int dim = 96, positions = 5;
        var random = new Random(11);
        var hidden = new float[dim * positions];
        for (var i = 0; i < hidden.Length; i++)
            hidden[i] = (float)(random.NextDouble() * 2 - 1) * (1 + i % 7);
        hidden[3] = 40f; // an outlier coarsens only its own position under int8

        using var codec = new HiddenStateCodec();
        var writer = new ArrayBufferWriter<byte>();
        var wire = codec.WriteFrame(writer, new FrameHeader(FrameType.Hidden, 1, 1), hidden, dim, encoding, zstd);
        Assert.Equal(writer.WrittenCount, wire);
        if (!zstd)
            Assert.Equal(FrameHeader.Size + HiddenStateCodec.EncodedLength(encoding, positions, dim), wire);

        var sequence = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.Equal(ParseStatus.Frame, FrameParser.TryRead(ref sequence, DataPlaneLimits.MaxPayloadBytes, out var frame, out _, out _));
        Assert.Equal((encoding, zstd, positions), (frame.Header.Encoding, frame.Header.Zstd, frame.Header.PositionCount));
        var decoded = new float[hidden.Length];
        codec.ReadPayload(frame.Header, frame.Payload.ToArray(), dim, decoded);

        for (var p = 0; p < positions; p++)
        {
            var row = hidden.AsSpan(p * dim, dim);
            var absMax = 0f;
            foreach (var v in row) absMax = Math.Max(absMax, Math.Abs(v));
            for (var i = 0; i < dim; i++)
            {
                var expected = row[i];
                var actual = decoded[p * dim + i];
                var bound = encoding switch
                {
                    HiddenEncoding.Fp32 => 0f,
                    // float16 keeps 11 significant bits: relative error at most 2^-11.
                    HiddenEncoding.Fp16 => Math.Abs(expected) * (1f / 2048) + 1e-7f,
                    // Rounding to the nearest of 127 steps of absmax/127: at most half a step (plus float rounding).
                    _ => absMax / 127f / 2 * 1.0001f,
                };
                Assert.True(Math.Abs(actual - expected) <= bound, $"{encoding}: position {p} value {i}: {actual} for {expected}, bound {bound}");
            }
        }
    }

    [Fact]
    public void Int8TakesDimPlusFourBytesPerPositionAndAWrongLengthIsRefused()
    {
        Assert.Equal(4096 + 4, HiddenStateCodec.EncodedLength(HiddenEncoding.Int8, 1, 4096));
        Assert.Equal(2 * 2048, HiddenStateCodec.EncodedLength(HiddenEncoding.Fp16, 1, 2048));
        var decoded = new float[64];
        Assert.Throws<InvalidDataException>(() => HiddenStateCodec.Decode(new byte[67], 64, HiddenEncoding.Int8, decoded));
        using var codec = new HiddenStateCodec();
        var header = new FrameHeader(FrameType.Hidden, 1, 1) { PositionCount = 1, Flags = FrameFlags.Zstd };
        Assert.Throws<InvalidDataException>(() => codec.ReadPayload(header, new byte[] { 1, 2, 3, 4, 5 }, 64, decoded));
    }

    [Fact]
    public void ErrorPayloadsRoundTrip()
    {
        var error = new ChainErrorPayload(ChainErrorCode.NodeLost, "nöde-b", "node nöde-b (10.0.0.2:7470) is gone: reset");
        var read = ChainErrorPayload.Read(error.ToBytes());
        Assert.Equal(error, read);
        Assert.Throws<InvalidDataException>(() => ChainErrorPayload.Read(new byte[] { 8, 0, 50, 0, 65 }));
    }

    /// <summary>The bytes as a chain of segments of <paramref name="size"/> bytes, like a pipe's buffer.</summary>
    private static ReadOnlySequence<byte> Segments(byte[] bytes, int size)
    {
        Segment? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += size)
        {
            var chunk = bytes.AsMemory(at, Math.Min(size, bytes.Length - at));
            if (first is null)
                first = last = new Segment(chunk, 0);
            else
                last = last!.Append(chunk);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
