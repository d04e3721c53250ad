using EdgeNode.Drivers.Battery;
using EdgeNode.Drivers.Fan;
using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Thermal;

namespace EdgeNode.Governor;

/// <summary>
/// Reads the sensors the node has and feeds the governor (and the fan, when there is one).
/// A sensor that fails on one read is skipped for that read only: a flaky I2C wire must not
/// stop the thermal protection.
/// </summary>
public sealed class GovernorSampler
{
    private readonly DeviceGovernor _governor;
    private readonly ITemperatureSensor? _temperature;
    private readonly IBatteryMonitor? _battery;
    private readonly IPowerSensor? _power;
    private readonly FanController? _fan;
    private readonly TimeProvider _time;

    public GovernorSampler(
        DeviceGovernor governor,
        ITemperatureSensor? temperature,
        IBatteryMonitor? battery,
        IPowerSensor? power,
        FanController? fan = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(governor);
        _governor = governor;
        _temperature = temperature;
        _battery = battery;
        _power = power;
        _fan = fan;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The sensors of this machine found under root: SoC temperature, battery, board input power, hwmon fan.</summary>
    public static GovernorSampler ForMachine(DeviceGovernor governor, string root = "/", TimeProvider? time = null)
    {
        var fan = HwmonPwmFan.Find(root);
        return new GovernorSampler(
            governor,
            SocTemperatureSensor.Find(root),
            PowerSupplyBattery.Find(root),
            HwmonPowerSensor.FindBoardInput(root),
            fan is null ? null : new FanController(fan),
            time);
    }

    public GovernorReadings LastReadings { get; private set; } = new();

    /// <summary>Reads every sensor once and hands the readings to the governor.</summary>
    public IReadOnlyList<GovernorDecision> SampleOnce()
    {
        var celsius = Try(() => _temperature?.ReadCelsius());
        var battery = Try(() => _battery?.Read());
        var watts = Try(() => _power is null ? (double?)null : _power.Read().Watts);
        LastReadings = new GovernorReadings(celsius, battery, watts);
        if (_fan is not null && celsius is { } t)
            Try(() => _fan.Update(t));
        return _governor.Observe(LastReadings);
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                SampleOnce();
                await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static T? Try<T>(Func<T?> read)
    {
        try
        {
            return read();
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return default;
        }
    }
}
