using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace EdgeNode.Pool.Discovery;

/// <summary>DNS record types mDNS discovery uses (RFC 1035, RFC 2782).</summary>
public enum DnsType : ushort
{
    A = 1,
    Ptr = 12,
    Txt = 16,
    Srv = 33,
    Any = 255,
}

public sealed record DnsQuestion(string Name, DnsType Type, bool UnicastResponse = false);

/// <summary>One resource record; only the fields of its type are set.</summary>
public sealed record DnsRecord(string Name, DnsType Type, uint Ttl)
{
    public string? Target { get; init; }                 // PTR, SRV
    public ushort Port { get; init; }                    // SRV
    public IReadOnlyList<string> Text { get; init; } = [];   // TXT
    public IPAddress? Address { get; init; }             // A
    public bool CacheFlush { get; init; }
}

/// <summary>
/// The small part of the DNS wire format (RFC 1035 §4, with mDNS's cache-flush and unicast-response bits from
/// RFC 6762) that advertising and finding a pool's broker needs: questions and A/PTR/TXT/SRV records, compressed
/// names on reading. Anything else in a datagram is skipped; a malformed datagram throws <see cref="FormatException"/>.
/// </summary>
public sealed record DnsMessage(ushort Id, bool IsResponse, IReadOnlyList<DnsQuestion> Questions, IReadOnlyList<DnsRecord> Answers)
{
    private const ushort ClassIn = 1;
    private const int MaxDatagram = 9000;

    public byte[] Encode()
    {
        var buffer = new byte[MaxDatagram];
        var at = 0;
        Write16(buffer, ref at, Id);
        Write16(buffer, ref at, IsResponse ? (ushort)0x8400 : (ushort)0);   // QR + AA for answers
        Write16(buffer, ref at, (ushort)Questions.Count);
        Write16(buffer, ref at, (ushort)Answers.Count);
        Write16(buffer, ref at, 0);
        Write16(buffer, ref at, 0);
        foreach (var q in Questions)
        {
            WriteName(buffer, ref at, q.Name);
            Write16(buffer, ref at, (ushort)q.Type);
            Write16(buffer, ref at, (ushort)(ClassIn | (q.UnicastResponse ? 0x8000 : 0)));
        }
        foreach (var r in Answers)
        {
            WriteName(buffer, ref at, r.Name);
            Write16(buffer, ref at, (ushort)r.Type);
            Write16(buffer, ref at, (ushort)(ClassIn | (r.CacheFlush ? 0x8000 : 0)));
            BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(at), r.Ttl);
            at += 4;
            var lengthAt = at;
            at += 2;
            switch (r.Type)
            {
                case DnsType.A:
                    r.Address!.MapToIPv4().TryWriteBytes(buffer.AsSpan(at), out var written);
                    at += written;
                    break;
                case DnsType.Ptr:
                    WriteName(buffer, ref at, r.Target!);
                    break;
                case DnsType.Srv:
                    Write16(buffer, ref at, 0);   // priority
                    Write16(buffer, ref at, 0);   // weight
                    Write16(buffer, ref at, r.Port);
                    WriteName(buffer, ref at, r.Target!);
                    break;
                case DnsType.Txt:
                    foreach (var s in r.Text)
                    {
                        var bytes = Encoding.UTF8.GetBytes(s);
                        if (bytes.Length > 255)
                            throw new ArgumentException($"TXT string '{s}' is longer than 255 bytes");
                        buffer[at++] = (byte)bytes.Length;
                        bytes.CopyTo(buffer, at);
                        at += bytes.Length;
                    }
                    if (r.Text.Count == 0)
                        buffer[at++] = 0;
                    break;
                default:
                    throw new ArgumentException($"cannot encode a {r.Type} record");
            }
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(lengthAt), (ushort)(at - lengthAt - 2));
        }
        return buffer.AsSpan(0, at).ToArray();
    }

    public static DnsMessage Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12)
            throw new FormatException($"DNS message of {data.Length} bytes is shorter than its 12-byte header");
        var id = BinaryPrimitives.ReadUInt16BigEndian(data);
        var flags = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        int qd = BinaryPrimitives.ReadUInt16BigEndian(data[4..]), an = BinaryPrimitives.ReadUInt16BigEndian(data[6..]);
        int ns = BinaryPrimitives.ReadUInt16BigEndian(data[8..]), ar = BinaryPrimitives.ReadUInt16BigEndian(data[10..]);
        var at = 12;
        var questions = new List<DnsQuestion>(Math.Min(qd, 16));
        for (var i = 0; i < qd; i++)
        {
            var name = ReadName(data, ref at);
            Need(data, at, 4);
            var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
            var cls = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
            at += 4;
            questions.Add(new DnsQuestion(name, type, (cls & 0x8000) != 0));
        }
        var answers = new List<DnsRecord>();
        // Answers, authority and additional records are read alike: a responder may put the SRV/TXT/A records in
        // any of them.
        for (var i = 0; i < an + ns + ar; i++)
        {
            var name = ReadName(data, ref at);
            Need(data, at, 10);
            var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
            var cls = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 2)..]);
            var ttl = BinaryPrimitives.ReadUInt32BigEndian(data[(at + 4)..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 8)..]);
            at += 10;
            Need(data, at, length);
            var end = at + length;
            var record = new DnsRecord(name, type, ttl) { CacheFlush = (cls & 0x8000) != 0 };
            switch (type)
            {
                case DnsType.A when length == 4:
                    answers.Add(record with { Address = new IPAddress(data.Slice(at, 4)) });
                    break;
                case DnsType.Ptr:
                {
                    var p = at;
                    answers.Add(record with { Target = ReadName(data, ref p) });
                    break;
                }
                case DnsType.Srv when length >= 7:
                {
                    var p = at + 6;
                    answers.Add(record with { Port = BinaryPrimitives.ReadUInt16BigEndian(data[(at + 4)..]), Target = ReadName(data, ref p) });
                    break;
                }
                case DnsType.Txt:
                {
                    var strings = new List<string>();
                    for (var p = at; p < end;)
                    {
                        int n = data[p++];
                        if (p + n > end)
                            throw new FormatException("TXT string runs past its record");
                        if (n > 0)
                            strings.Add(Encoding.UTF8.GetString(data.Slice(p, n)));
                        p += n;
                    }
                    answers.Add(record with { Text = strings });
                    break;
                }
                default:
                    break;   // a type discovery does not use
            }
            at = end;
        }
        return new DnsMessage(id, (flags & 0x8000) != 0, questions, answers);
    }

    private static void Need(ReadOnlySpan<byte> data, int at, int count)
    {
        if (at + count > data.Length)
            throw new FormatException($"DNS message ends at byte {data.Length}, a field needs bytes up to {at + count}");
    }

    private static void Write16(byte[] buffer, ref int at, ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(at), value);
        at += 2;
    }

    private static void WriteName(byte[] buffer, ref int at, string name)
    {
        foreach (var label in name.TrimEnd('.').Split('.'))
        {
            var bytes = Encoding.UTF8.GetBytes(label);
            if (bytes.Length is 0 or > 63)
                throw new ArgumentException($"DNS name '{name}' has an empty or over-long label");
            buffer[at++] = (byte)bytes.Length;
            bytes.CopyTo(buffer, at);
            at += bytes.Length;
        }
        buffer[at++] = 0;
    }

    private static string ReadName(ReadOnlySpan<byte> data, ref int at)
    {
        var name = new StringBuilder();
        var p = at;
        var jumped = false;
        for (var hops = 0; ; hops++)
        {
            if (hops > 64)
                throw new FormatException("DNS name has a compression loop");
            Need(data, p, 1);
            int length = data[p];
            if ((length & 0xC0) == 0xC0)
            {
                Need(data, p, 2);
                var target = ((length & 0x3F) << 8) | data[p + 1];
                if (!jumped)
                    at = p + 2;
                jumped = true;
                p = target;
                continue;
            }
            if (length > 63)
                throw new FormatException($"DNS label length {length} is invalid");
            p++;
            if (length == 0)
                break;
            Need(data, p, length);
            if (name.Length > 0)
                name.Append('.');
            name.Append(Encoding.UTF8.GetString(data.Slice(p, length)));
            p += length;
        }
        if (!jumped)
            at = p;
        return name.ToString();
    }
}
