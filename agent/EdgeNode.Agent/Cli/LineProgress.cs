namespace EdgeNode.Agent.Cli;

/// <summary>
/// Progress written as lines, at once and in order (System.Progress would post them to the thread pool).
/// An optional heading is printed before the first step only, so work rejected up front stays a one-line error.
/// </summary>
public sealed class LineProgress(TextWriter log, string prefix, string? heading = null) : IProgress<string>
{
    private bool _started;

    public void Report(string value)
    {
        if (!_started)
        {
            _started = true;
            if (heading is not null)
                log.WriteLine(heading);
        }
        log.WriteLine($"{prefix}{value}");
    }
}

/// <summary>A fraction 0..1 reported as a line every 10%.</summary>
public sealed class PercentProgress(TextWriter log, string label) : IProgress<double>
{
    private int _lastDecile = -1;

    public void Report(double value)
    {
        var decile = (int)(Math.Clamp(value, 0, 1) * 10);
        if (decile == _lastDecile)
            return;
        _lastDecile = decile;
        log.WriteLine($"{label}: {decile * 10}%");
    }
}
