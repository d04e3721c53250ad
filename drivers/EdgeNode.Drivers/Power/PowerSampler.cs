namespace EdgeNode.Drivers.Power;

/// <summary>
/// Samples a power sensor while a run goes on (a benchmark, a generation), for
/// <see cref="EnergyPerToken"/>. Time comes from a <see cref="TimeProvider"/>; tests call
/// <see cref="SampleNow"/> between manual clock steps.
/// </summary>
public sealed class PowerSampler
{
    private readonly IPowerSensor _sensor;
    private readonly TimeProvider _time;
    private readonly List<PowerSample> _samples = [];
    private readonly Lock _lock = new();
    private long _start;

    public PowerSampler(IPowerSensor sensor, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sensor);
        _sensor = sensor;
        _time = time ?? TimeProvider.System;
        _start = _time.GetTimestamp();
    }

    public string SensorName => _sensor.Name;

    /// <summary>Forgets earlier samples and starts the run's clock now.</summary>
    public void Restart()
    {
        lock (_lock)
        {
            _samples.Clear();
            _start = _time.GetTimestamp();
        }
    }

    public PowerSample SampleNow()
    {
        var reading = _sensor.Read();
        lock (_lock)
        {
            var sample = new PowerSample(_time.GetElapsedTime(_start), reading.Watts);
            _samples.Add(sample);
            return sample;
        }
    }

    public IReadOnlyList<PowerSample> Samples
    {
        get
        {
            lock (_lock)
                return [.. _samples];
        }
    }

    /// <summary>Samples every interval until cancelled; a failing read ends sampling, not the run.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                SampleNow();
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Takes a last sample so the run's tail is covered, then computes J/token.</summary>
    public EnergyMeasurement Finish(long tokens, TimeSpan? runDuration = null)
    {
        SampleNow();
        return EnergyPerToken.Compute(Samples, tokens, runDuration);
    }
}
