namespace EdgeNode.Drivers.Gpio;

/// <summary>
/// Drives one output line with the pattern of the node's status. Time comes from a
/// <see cref="TimeProvider"/> so a test can step through a pattern without waiting.
/// </summary>
public sealed class StatusLed : IDisposable
{
    private readonly IGpioLines _lines;
    private readonly ulong _bit;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private long _patternStart;
    private bool? _written;
    private NodeStatus _status;

    public StatusLed(IGpioLines lines, int index = 0, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, lines.Offsets.Count);
        _lines = lines;
        _bit = 1UL << index;
        _time = time ?? TimeProvider.System;
        _patternStart = _time.GetTimestamp();
        Refresh();
    }

    /// <summary>Requests an output line for the LED (active high; wire active-low LEDs with ActiveLow).</summary>
    public static StatusLed Open(GpioChip chip, uint offset, bool activeLow = false, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(chip);
        var flags = GpioLineFlags.Output | (activeLow ? GpioLineFlags.ActiveLow : GpioLineFlags.None);
        var lines = chip.RequestLines(new GpioLineSettings { Offsets = [offset], Flags = flags, Consumer = "edgenode-led" });
        return new StatusLed(lines, 0, time);
    }

    public NodeStatus Status
    {
        get
        {
            lock (_lock)
                return _status;
        }
        set
        {
            lock (_lock)
            {
                if (_status == value)
                    return;
                _status = value;
                // Every new status starts its pattern from the top, so "joining" always opens with a visible "on".
                _patternStart = _time.GetTimestamp();
            }
            Refresh();
        }
    }

    /// <summary>Whether the LED is lit right now (what was last written to the line).</summary>
    public bool IsOn
    {
        get
        {
            lock (_lock)
                return _written ?? false;
        }
    }

    /// <summary>Writes the level the pattern wants now; the line is only touched when the level changes.</summary>
    public void Refresh()
    {
        lock (_lock)
        {
            var on = LedPattern.For(_status).IsOnAt(_time.GetElapsedTime(_patternStart));
            if (_written == on)
                return;
            _lines.SetValues(on ? _bit : 0, _bit);
            _written = on;
        }
    }

    /// <summary>Keeps the pattern running until cancelled, then turns the LED off.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Refresh();
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        Status = NodeStatus.Off;
    }

    public void Dispose()
    {
        try
        {
            _lines.SetValues(0, _bit);
        }
        catch (IOException)
        {
            // The line may already be gone (chip unplugged); releasing it below is all that is left to do.
        }
        _lines.Dispose();
    }
}
