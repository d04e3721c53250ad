using System.Diagnostics;
using EdgeNode.Pool.Slices;

namespace EdgeNode.Agent.Daemon;

/// <summary>A slice fetch's progress into the log: at most one line a second, and always the last (logs stay quiet).</summary>
internal sealed class FetchProgressLog(Action<SliceFetchProgress> log) : IProgress<SliceFetchProgress>
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);
    private long _last;

    public void Report(SliceFetchProgress value)
    {
        var now = Stopwatch.GetTimestamp();
        if (value.BytesDone < value.BytesTotal && _last != 0 && Stopwatch.GetElapsedTime(_last, now) < s_interval)
            return;
        _last = now;
        log(value);
    }
}
