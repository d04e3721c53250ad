namespace EdgeNode.Drivers.Gpio;

/// <summary>
/// A repeating on/off sequence. Each status gets a shape told apart at a glance across a room:
/// steady for serving, slow blink for joining, heartbeat for draining, fast flicker for errors.
/// </summary>
public sealed class LedPattern
{
    private readonly (bool On, TimeSpan Duration)[] _steps;
    private readonly TimeSpan _period;

    public LedPattern(params (bool On, TimeSpan Duration)[] steps)
    {
        if (steps.Length == 0 || steps.Any(step => step.Duration <= TimeSpan.Zero))
            throw new ArgumentException("a pattern needs at least one step, each with a positive duration", nameof(steps));
        _steps = steps;
        _period = TimeSpan.FromTicks(steps.Sum(step => step.Duration.Ticks));
    }

    public static LedPattern Off { get; } = new((false, TimeSpan.FromSeconds(1)));

    public static LedPattern Serving { get; } = new((true, TimeSpan.FromSeconds(1)));

    public static LedPattern Joining { get; } = new((true, Ms(500)), (false, Ms(500)));

    public static LedPattern Draining { get; } = new((true, Ms(100)), (false, Ms(100)), (true, Ms(100)), (false, Ms(700)));

    public static LedPattern Error { get; } = new((true, Ms(100)), (false, Ms(100)));

    public static LedPattern For(NodeStatus status) => status switch
    {
        NodeStatus.Joining => Joining,
        NodeStatus.Serving => Serving,
        NodeStatus.Draining => Draining,
        NodeStatus.Error => Error,
        _ => Off,
    };

    /// <summary>The shortest step: how often the LED must be refreshed to show the pattern.</summary>
    public TimeSpan Resolution => TimeSpan.FromTicks(_steps.Min(step => step.Duration.Ticks));

    /// <summary>Whether the LED is on at this time since the pattern started.</summary>
    public bool IsOnAt(TimeSpan elapsed)
    {
        var within = elapsed.Ticks % _period.Ticks;
        if (within < 0)
            within += _period.Ticks;
        foreach (var (on, duration) in _steps)
        {
            if (within < duration.Ticks)
                return on;
            within -= duration.Ticks;
        }
        return _steps[^1].On;
    }

    private static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);
}
