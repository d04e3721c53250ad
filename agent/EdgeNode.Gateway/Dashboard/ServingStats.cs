using System.Diagnostics;
using EdgeNode.Inference.Generation;

namespace EdgeNode.Gateway.Dashboard;

/// <summary>
/// What the node has served since it started: generations finished, tokens generated, and the last few runs with
/// their speed, for the dashboard. Written once per finished generation (never per token), read once a second.
/// </summary>
public sealed class ServingStats
{
    /// <summary>Runs the dashboard lists; enough to see a trend, small enough to send every second.</summary>
    public const int RecentCapacity = 16;

    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly RecentRun[] _recent = new RecentRun[RecentCapacity];
    private readonly Lock _gate = new();
    private int _recentCount;
    private int _recentNext;
    private long _requests;
    private long _tokens;

    public TimeSpan Uptime => _uptime.Elapsed;

    public long Requests => Interlocked.Read(ref _requests);

    public long Tokens => Interlocked.Read(ref _tokens);

    public void Record(string model, GenerationResult result)
    {
        var seconds = (result.Prefill + result.Decode).TotalSeconds;
        var run = new RecentRun(model, result.Tokens.Length, seconds, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Interlocked.Increment(ref _requests);
        Interlocked.Add(ref _tokens, result.Tokens.Length);
        lock (_gate)
        {
            _recent[_recentNext] = run;
            _recentNext = (_recentNext + 1) % RecentCapacity;
            _recentCount = Math.Min(_recentCount + 1, RecentCapacity);
        }
    }

    /// <summary>The recent runs, newest first.</summary>
    public List<RecentRun> Recent()
    {
        lock (_gate)
        {
            var runs = new List<RecentRun>(_recentCount);
            for (var i = 1; i <= _recentCount; i++)
                runs.Add(_recent[(_recentNext - i + RecentCapacity) % RecentCapacity]);
            return runs;
        }
    }
}

/// <summary>One finished generation: its model, tokens generated, wall time of prefill and decode, and when it ended.</summary>
public sealed record RecentRun(string Model, int Tokens, double Seconds, long FinishedAtMs)
{
    public double TokensPerSecond => Seconds > 0 ? Tokens / Seconds : 0;
}
