using EdgeNode.Drivers.Power;

namespace EdgeNode.Agent.Energy;

/// <summary>
/// Samples the board's input power rail (hwmon) in the background while a generation or a benchmark runs,
/// so the report can give joules per token. On a machine with no power sensor it does nothing and
/// reports null: there is no number to make up.
/// </summary>
public sealed class EnergyMeter : IDisposable
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(50);

    private readonly PowerSampler? _sampler;
    private readonly CancellationTokenSource _stop = new();
    private Task? _sampling;

    private EnergyMeter(PowerSampler? sampler) => _sampler = sampler;

    /// <summary>The sensor in use, or null when the board has none.</summary>
    public string? SensorName => _sampler?.SensorName;

    /// <summary>A meter over the board's input rail (EDGENODE_SYSFS_ROOT probes another root, for tests).</summary>
    public static EnergyMeter ForThisBoard()
    {
        var root = Environment.GetEnvironmentVariable("EDGENODE_SYSFS_ROOT") ?? "/";
        var sensor = HwmonPowerSensor.FindBoardInput(root);
        return new EnergyMeter(sensor is null ? null : new PowerSampler(sensor));
    }

    public void Start()
    {
        if (_sampler is null)
            return;
        _sampler.Restart();
        _sampling = Task.Run(() => _sampler.RunAsync(s_interval, _stop.Token));
    }

    /// <summary>Joules per token over the run, or null without a sensor.</summary>
    public double? Finish(long tokens, TimeSpan runDuration)
    {
        if (_sampler is null || _sampling is null)
            return null;
        _stop.Cancel();
        _sampling.Wait();
        _sampling = null;
        return tokens > 0 ? _sampler.Finish(tokens, runDuration).JoulesPerToken : null;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sampling?.Wait();
        _stop.Dispose();
    }
}
