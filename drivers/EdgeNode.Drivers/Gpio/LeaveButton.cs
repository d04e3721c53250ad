namespace EdgeNode.Drivers.Gpio;

/// <summary>
/// A push button that asks the node to leave gracefully. Wired between the pin and ground with
/// the internal pull-up, so the line is requested ActiveLow: a press is a rising (inactive to
/// active) edge. The kernel debounces; a hold-off here ignores the bounce a slow kernel lets through.
/// </summary>
public sealed class LeaveButton : IDisposable
{
    private readonly IGpioLines _lines;
    private readonly TimeSpan _holdOff;
    private ulong? _lastPressNs;

    public LeaveButton(IGpioLines lines, TimeSpan? holdOff = null)
    {
        ArgumentNullException.ThrowIfNull(lines);
        _lines = lines;
        _holdOff = holdOff ?? TimeSpan.FromMilliseconds(250);
    }

    public static LeaveButton Open(GpioChip chip, uint offset)
    {
        ArgumentNullException.ThrowIfNull(chip);
        var lines = chip.RequestLines(new GpioLineSettings
        {
            Offsets = [offset],
            Flags = GpioLineFlags.Input | GpioLineFlags.ActiveLow | GpioLineFlags.BiasPullUp | GpioLineFlags.EdgeRising,
            Debounce = TimeSpan.FromMilliseconds(10),
            Consumer = "edgenode-button",
        });
        return new LeaveButton(lines);
    }

    /// <summary>Raised once per press, on the thread running <see cref="RunAsync"/>.</summary>
    public event EventHandler? Pressed;

    public bool IsHeld => _lines.GetValues(1) != 0;

    /// <summary>Waits up to timeout for one press; bounces within the hold-off are swallowed.</summary>
    public bool WaitForPress(TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var remaining = TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));
            if (!_lines.TryReadEdge(remaining, out var edge))
                return false;
            if (!edge.Rising)
                continue;
            var bounced = _lastPressNs is { } last && edge.TimestampNanoseconds - last < (ulong)(_holdOff.Ticks * 100);
            _lastPressNs = edge.TimestampNanoseconds;
            if (!bounced)
                return true;
            if (remaining == TimeSpan.Zero)
                return false;
        }
    }

    /// <summary>Watches the button until cancelled, raising <see cref="Pressed"/> per press.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => Task.Factory.StartNew(
        () =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Short waits so cancellation is noticed promptly without a second descriptor to wake poll().
                if (WaitForPress(TimeSpan.FromMilliseconds(200)))
                    Pressed?.Invoke(this, EventArgs.Empty);
            }
        },
        cancellationToken,
        TaskCreationOptions.LongRunning,
        TaskScheduler.Default);

    public void Dispose() => _lines.Dispose();
}
