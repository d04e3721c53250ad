using System.Diagnostics;

namespace EdgeNode.Gateway.FairUse;

/// <summary>
/// One client's allowance: up to <see cref="RateLimit.Burst"/> requests at once, refilled at
/// <see cref="RateLimit.PerMinute"/> a minute. Each bucket has its own lock, held for a few arithmetic operations, so
/// clients never wait on one another.
/// </summary>
internal sealed class TokenBucket(RateLimit limit, long now)
{
    private readonly Lock _gate = new();
    private double _tokens = limit.Burst;
    private long _refilledAt = now;

    /// <summary>When the bucket was last touched (Stopwatch ticks); a bucket idle long enough to be full again can be dropped.</summary>
    public long LastUsed => Volatile.Read(ref _refilledAt);

    /// <summary>Takes one request's token; when none is left, returns the whole seconds until one will be (at least 1).</summary>
    public bool TryTake(long now, out int retryAfterSeconds)
    {
        lock (_gate)
        {
            var elapsed = (double)Math.Max(0, now - _refilledAt) / Stopwatch.Frequency;
            _tokens = Math.Min(limit.Burst, _tokens + elapsed * limit.PerSecond);
            Volatile.Write(ref _refilledAt, now);
            if (_tokens >= 1)
            {
                _tokens -= 1;
                retryAfterSeconds = 0;
                return true;
            }
            retryAfterSeconds = Math.Max(1, (int)Math.Ceiling((1 - _tokens) / limit.PerSecond));
            return false;
        }
    }
}
