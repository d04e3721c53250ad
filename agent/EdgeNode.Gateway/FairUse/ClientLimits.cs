using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using EdgeNode.Gateway.Api;

namespace EdgeNode.Gateway.FairUse;

/// <summary>
/// Fair use: a token bucket for each API key and one for each client address, so one busy client cannot starve the
/// others. Key buckets are a fixed array (one per configured key, found by the key check's index); address buckets
/// live in a dictionary from which idle ones are swept, so memory stays bounded however many clients come and go.
/// </summary>
internal sealed class ClientLimits
{
    /// <summary>Past this many tracked addresses, new ones share one bucket until the sweep frees room.</summary>
    public const int MaxTrackedAddresses = 65_536;

    private static readonly long s_sweepEvery = Stopwatch.Frequency * 10;

    private readonly RateLimit _perKey;
    private readonly RateLimit _perAddress;
    private readonly TokenBucket[] _keyBuckets;
    private readonly ConcurrentDictionary<UInt128, TokenBucket> _addressBuckets = new();
    private readonly TokenBucket _overflow;
    private readonly Func<long> _clock;
    private long _sweptAt;
    private long _limited;

    public ClientLimits(RateLimit perKey, RateLimit perAddress, int keyCount, Func<long>? clock = null)
    {
        _perKey = perKey;
        _perAddress = perAddress;
        _clock = clock ?? Stopwatch.GetTimestamp;
        var now = _clock();
        _sweptAt = now;
        _keyBuckets = perKey.Enabled ? [.. Enumerable.Range(0, keyCount).Select(_ => new TokenBucket(perKey, now))] : [];
        _overflow = new TokenBucket(perAddress.Enabled ? perAddress : new RateLimit(1, 1), now);
    }

    /// <summary>Requests answered 429 so far.</summary>
    public long Limited => Interlocked.Read(ref _limited);

    public int TrackedAddresses => _addressBuckets.Count;

    /// <summary>Throws the 429 when the client's address has used its allowance.</summary>
    public void TakeForAddress(IPAddress? address)
    {
        if (!_perAddress.Enabled)
            return;
        var now = _clock();
        SweepIfDue(now);
        var id = AddressId(address);
        if (!_addressBuckets.TryGetValue(id, out var bucket))
        {
            // A static factory with its state passed in: a capturing lambda would allocate on every call, hit or miss.
            bucket = _addressBuckets.Count >= MaxTrackedAddresses
                ? _overflow
                : _addressBuckets.GetOrAdd(id, static (_, start) => new TokenBucket(start.Limit, start.Now), (Limit: _perAddress, Now: now));
        }
        if (!bucket.TryTake(now, out var wait))
            throw Refuse("this address", _perAddress, wait);
    }

    /// <summary>Throws the 429 when the key (its index among the configured keys) has used its allowance.</summary>
    public void TakeForKey(int keyIndex)
    {
        if (!_perKey.Enabled || keyIndex < 0)
            return;
        if (!_keyBuckets[keyIndex].TryTake(_clock(), out var wait))
            throw Refuse("this API key", _perKey, wait);
    }

    /// <summary>
    /// Drops address buckets idle long enough to be full again: a new bucket is full too, so dropping one changes
    /// nothing (a request racing the sweep may take from the dropped bucket: one request's token, once).
    /// </summary>
    public void SweepIfDue(long now)
    {
        var last = Interlocked.Read(ref _sweptAt);
        if (now - last < s_sweepEvery && _addressBuckets.Count < MaxTrackedAddresses)
            return;
        // One sweeper at a time; the others go on serving.
        if (Interlocked.CompareExchange(ref _sweptAt, now, last) != last)
            return;
        var idle = _perAddress.TicksToFill;
        foreach (var entry in _addressBuckets)
        {
            if (now - entry.Value.LastUsed >= idle)
                _addressBuckets.TryRemove(entry);
        }
    }

    private ApiError Refuse(string who, RateLimit limit, int wait)
    {
        Interlocked.Increment(ref _limited);
        return ApiError.RateLimited(who, limit.PerMinute, limit.Burst, wait);
    }

    /// <summary>IPv4 by address; IPv6 by its /64, since one host is commonly given a whole /64 to pick addresses from.</summary>
    private static UInt128 AddressId(IPAddress? address)
    {
        if (address is null)
            return 0;
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            address.TryWriteBytes(bytes[12..], out _);
            bytes[11] = 0xff;   // apart from any IPv6 /64
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();   // the /64 prefix stays; the interface part is dropped
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }
}
