using System.Diagnostics;

namespace EdgeNode.Pool.Slices;

/// <summary>
/// A bandwidth cap: bytes flow at <see cref="BytesPerSecond"/> on average, with bursts up to <see cref="BurstBytes"/>.
/// Callers take tokens for the bytes they move; the bucket may go into debt, and a caller waits until its share of
/// the debt is paid back, so several connections sharing one bucket stay under the cap together and in turn.
/// </summary>
public sealed class TokenBucket
{
    private readonly object _gate = new();
    private double _tokens;
    private long _lastTimestamp;

    /// <param name="burstBytes">Bytes that may pass at once after a quiet spell; default a tenth of a second's worth, at least 64 KiB.</param>
    public TokenBucket(long bytesPerSecond, long? burstBytes = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        BytesPerSecond = bytesPerSecond;
        BurstBytes = burstBytes ?? Math.Max(64 * 1024, bytesPerSecond / 10);
        ArgumentOutOfRangeException.ThrowIfLessThan(BurstBytes, 1, nameof(burstBytes));
        _tokens = BurstBytes;
        _lastTimestamp = Stopwatch.GetTimestamp();
    }

    public long BytesPerSecond { get; }

    public long BurstBytes { get; }

    /// <summary>Takes <paramref name="bytes"/> tokens; completes at once while the bucket holds them, else when the debt is paid.</summary>
    public ValueTask TakeAsync(long bytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        double debt;
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(BurstBytes, _tokens + Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds * BytesPerSecond);
            _lastTimestamp = now;
            _tokens -= bytes;
            debt = -_tokens;
        }
        if (debt <= 0)
            return ValueTask.CompletedTask;
        return new ValueTask(Task.Delay(TimeSpan.FromSeconds(debt / BytesPerSecond), cancellationToken));
    }
}
