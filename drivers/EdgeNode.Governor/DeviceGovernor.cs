using System.Globalization;

namespace EdgeNode.Governor;

/// <summary>
/// The thermal, battery and power state machine. Readings go in through <see cref="Observe"/>;
/// decisions (thread count, drain, resume) come out to subscribers. It never sleeps or reads a
/// sensor itself: time comes from a <see cref="TimeProvider"/>, so a scenario of hours runs in a
/// test in microseconds.
/// </summary>
/// <remarks>
/// Order of defence against heat: shed threads first (less heat, still serving), then drain before
/// the kernel's throttle point, then resume only after the SoC has stayed cool for a while.
/// </remarks>
public sealed class DeviceGovernor : IObservable<GovernorDecision>
{
    private const double PowerReleaseFraction = 0.85;

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<IObserver<GovernorDecision>> _observers = [];
    private readonly Queue<(DateTimeOffset At, double Watts)> _power = new();

    private DateTimeOffset? _coolSince;
    private DateTimeOffset? _powerCalmSince;
    private DateTimeOffset? _powerOverAtMinimumSince;
    private DateTimeOffset _lastThreadChange;
    private int _powerCap;

    public DeviceGovernor(GovernorPolicy policy, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        Policy = policy;
        _time = time ?? TimeProvider.System;
        Threads = policy.MaxThreads;
        _powerCap = policy.MaxThreads;
        _lastThreadChange = _time.GetUtcNow();
    }

    public GovernorPolicy Policy { get; }

    /// <summary>The intra-op thread count to run with now.</summary>
    public int Threads { get; private set; }

    public DrainReasons Reasons { get; private set; }

    public GovernorState State => Reasons != DrainReasons.None ? GovernorState.Drained
        : Threads < Policy.MaxThreads ? GovernorState.Throttled
        : GovernorState.Serving;

    public double? AveragePowerWatts { get; private set; }

    /// <summary>Raised for every decision, after the observers, on the thread that called <see cref="Observe"/>.</summary>
    public event EventHandler<GovernorDecision>? DecisionMade;

    public IDisposable Subscribe(IObserver<GovernorDecision> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_lock)
            _observers.Add(observer);
        return new Unsubscriber(this, observer);
    }

    /// <summary>Feeds one set of readings; returns the decisions they caused (often none).</summary>
    public IReadOnlyList<GovernorDecision> Observe(GovernorReadings readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        List<GovernorDecision> decisions = [];
        IObserver<GovernorDecision>[] observers;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            var before = Reasons;
            var reasons = Reasons;
            var why = new List<string>();

            reasons = StepThermal(readings.TemperatureCelsius, now, reasons, why);
            reasons = StepBattery(readings, reasons, why);
            reasons = StepPower(readings.PowerWatts, now, reasons, why);

            var wanted = Math.Min(ThermalThreads(readings.TemperatureCelsius, Threads), _powerCap);
            var threadsBefore = Threads;
            if (wanted < Threads)
            {
                Threads = wanted;
                _lastThreadChange = now;
            }
            else if (wanted > Threads && (before != DrainReasons.None && reasons == DrainReasons.None || now - _lastThreadChange >= Policy.ThreadStepHold))
            {
                // Back from a drain the node starts at the level the temperature allows; while serving, one thread at a time.
                Threads = before != DrainReasons.None && reasons == DrainReasons.None ? wanted : Threads + 1;
                _lastThreadChange = now;
            }
            Reasons = reasons;

            if (before == DrainReasons.None && reasons != DrainReasons.None)
                decisions.Add(Decide(GovernorDecisionKind.Drain, now, $"drain: {string.Join("; ", why)}"));
            else if (before != DrainReasons.None && reasons == DrainReasons.None)
                decisions.Add(Decide(GovernorDecisionKind.Resume, now, $"resume with {Threads} threads: {string.Join("; ", why)}"));
            else if (reasons == DrainReasons.None && Threads != threadsBefore)
                decisions.Add(Decide(GovernorDecisionKind.SetThreads, now, ThreadsWhy(readings, threadsBefore)));
            observers = [.. _observers];
        }

        foreach (var decision in decisions)
        {
            foreach (var observer in observers)
                observer.OnNext(decision);
            DecisionMade?.Invoke(this, decision);
        }
        return decisions;
    }

    private DrainReasons StepThermal(double? celsius, DateTimeOffset now, DrainReasons reasons, List<string> why)
    {
        if (celsius is not { } t)
            return reasons;
        if (t >= Policy.DrainCelsius)
        {
            _coolSince = null;
            if ((reasons & DrainReasons.Thermal) == 0)
                why.Add(Invariant($"SoC at {t:0.0} °C, drain limit {Policy.DrainCelsius:0.0} °C"));
            return reasons | DrainReasons.Thermal;
        }
        if ((reasons & DrainReasons.Thermal) == 0)
            return reasons;
        if (t > Policy.ResumeCelsius)
        {
            _coolSince = null;
            return reasons;
        }
        _coolSince ??= now;
        if (now - _coolSince.Value < Policy.CoolDownHold)
            return reasons;
        _coolSince = null;
        why.Add(Invariant($"SoC cooled to {t:0.0} °C (resume below {Policy.ResumeCelsius:0.0} °C held {Policy.CoolDownHold.TotalSeconds:0} s)"));
        return reasons & ~DrainReasons.Thermal;
    }

    private DrainReasons StepBattery(GovernorReadings readings, DrainReasons reasons, List<string> why)
    {
        if (readings.Battery is not { } battery)
            return reasons;
        var low = !battery.OnExternalPower && battery.CapacityPercent is { } percent && percent < Policy.MinimumBatteryPercent;
        if (low && (reasons & DrainReasons.Battery) == 0)
        {
            why.Add(Invariant($"battery at {battery.CapacityPercent} % and {battery.Status}, minimum {Policy.MinimumBatteryPercent} %"));
            return reasons | DrainReasons.Battery;
        }
        if ((reasons & DrainReasons.Battery) != 0
            && (battery.OnExternalPower || battery.CapacityPercent >= Policy.ResumeBatteryPercent))
        {
            why.Add(battery.OnExternalPower ? "battery charging" : Invariant($"battery back to {battery.CapacityPercent} %"));
            return reasons & ~DrainReasons.Battery;
        }
        return reasons;
    }

    private DrainReasons StepPower(double? watts, DateTimeOffset now, DrainReasons reasons, List<string> why)
    {
        if (Policy.PowerBudgetWatts is not { } budget)
            return reasons;
        if (watts is { } w)
            _power.Enqueue((now, w));
        while (_power.Count > 0 && now - _power.Peek().At > Policy.PowerWindow)
            _power.Dequeue();
        if (_power.Count == 0)
            return reasons;
        var average = _power.Average(sample => sample.Watts);
        AveragePowerWatts = average;

        if (average > budget)
        {
            _powerCalmSince = null;
            // Fewer threads draw less; one step per hold lets the average catch up before the next cut.
            if (now - _lastThreadChange >= Policy.ThreadStepHold || _powerCap > Threads)
                _powerCap = Math.Max(Policy.MinThreads, Math.Min(_powerCap, Threads) - 1);
            if (Threads <= Policy.MinThreads && (reasons & DrainReasons.Power) == 0)
            {
                _powerOverAtMinimumSince ??= now;
                if (now - _powerOverAtMinimumSince.Value >= Policy.PowerWindow)
                {
                    why.Add(Invariant($"drawing {average:0.00} W on {Threads} thread(s), budget {budget:0.00} W"));
                    return reasons | DrainReasons.Power;
                }
            }
            return reasons;
        }

        _powerOverAtMinimumSince = null;
        if (average <= budget * PowerReleaseFraction)
        {
            _powerCalmSince ??= now;
            if ((reasons & DrainReasons.Power) != 0 && now - _powerCalmSince.Value >= Policy.CoolDownHold)
            {
                why.Add(Invariant($"power back to {average:0.00} W, budget {budget:0.00} W"));
                _powerCalmSince = now;
                return reasons & ~DrainReasons.Power;
            }
            if ((reasons & DrainReasons.Power) == 0 && _powerCap < Policy.MaxThreads && now - _lastThreadChange >= Policy.ThreadStepHold)
                _powerCap++;
        }
        else
        {
            _powerCalmSince = null;
        }
        return reasons;
    }

    /// <summary>
    /// Threads the temperature allows: all up to the reduce limit, the minimum at the drain limit,
    /// in proportion between. Raising threads needs the temperature to clear the hysteresis margin.
    /// </summary>
    private int ThermalThreads(double? celsius, int current)
    {
        if (celsius is not { } t)
            return current;
        var atTemperature = ThreadsAt(t);
        if (atTemperature >= current)
            return Math.Max(current, Math.Min(atTemperature, ThreadsAt(t + Policy.ThreadHysteresisCelsius)));
        return atTemperature;
    }

    private int ThreadsAt(double celsius)
    {
        if (celsius <= Policy.ReduceThreadsCelsius)
            return Policy.MaxThreads;
        if (celsius >= Policy.DrainCelsius)
            return Policy.MinThreads;
        var fraction = (celsius - Policy.ReduceThreadsCelsius) / (Policy.DrainCelsius - Policy.ReduceThreadsCelsius);
        var threads = (int)Math.Ceiling(Policy.MaxThreads - ((Policy.MaxThreads - Policy.MinThreads) * fraction));
        return Math.Clamp(threads, Policy.MinThreads, Policy.MaxThreads);
    }

    private string ThreadsWhy(GovernorReadings readings, int before)
    {
        var direction = Threads < before ? "fewer" : "more";
        var parts = new List<string>();
        if (readings.TemperatureCelsius is { } t)
            parts.Add(Invariant($"SoC {t:0.0} °C"));
        if (AveragePowerWatts is { } w && Policy.PowerBudgetWatts is { } budget)
            parts.Add(Invariant($"power {w:0.00} W of {budget:0.00} W"));
        return $"{direction} threads ({before} → {Threads}): {string.Join(", ", parts)}";
    }

    private GovernorDecision Decide(GovernorDecisionKind kind, DateTimeOffset at, string why) =>
        new(kind, State, Threads, Reasons, why, at);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class Unsubscriber(DeviceGovernor governor, IObserver<GovernorDecision> observer) : IDisposable
    {
        public void Dispose()
        {
            lock (governor._lock)
                governor._observers.Remove(observer);
        }
    }
}
