using EdgeNode.Drivers.Battery;
using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Thermal;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Governor;

namespace EdgeNode.Agent.Serve;

/// <summary>
/// Holds async jobs back while the device governor drains the node (too hot, battery low, over its power budget),
/// and lets them start again when it resumes. On a machine with no SoC temperature, battery or power sensor there is
/// nothing to govern and jobs are always admitted. The fan is left to whatever controls it: serve only reads sensors.
/// </summary>
public sealed class GovernedJobs : IObserver<GovernorDecision>, IDisposable
{
    /// <summary>Often enough to pause jobs well before the kernel throttles (the governor drains a few degrees early).</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(2);

    private readonly IDisposable? _subscription;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling = Task.CompletedTask;

    public GovernedJobs(DeviceGovernor governor, JobAdmission admission)
    {
        Admission = admission;
        _subscription = governor.Subscribe(this);
    }

    private GovernedJobs(JobAdmission admission, DeviceGovernor? governor, GovernorSampler? sampler)
    {
        Admission = admission;
        Governor = governor;
        Sampler = sampler;
        if (governor is null || sampler is null)
            return;
        _subscription = governor.Subscribe(this);
        _sampling = Task.Run(() => sampler.RunAsync(SampleInterval, _stop.Token));
    }

    public JobAdmission Admission { get; }

    /// <summary>The governor, or null on a machine with no sensor to govern by (the pool subscribes to its drains too).</summary>
    public DeviceGovernor? Governor { get; }

    /// <summary>The sampler whose last readings the pool publishes; null with <see cref="Governor"/>.</summary>
    public GovernorSampler? Sampler { get; }

    /// <summary>A governor over this machine's sensors under <paramref name="root"/>, sampled in the background; none when it has no sensor.</summary>
    public static GovernedJobs ForThisDevice(int threads, string root = "/")
    {
        var admission = new JobAdmission();
        var temperature = SocTemperatureSensor.Find(root);
        var battery = PowerSupplyBattery.Find(root);
        var power = HwmonPowerSensor.FindBoardInput(root);
        if (temperature is null && battery is null && power is null)
            return new GovernedJobs(admission, null, null);
        var governor = new DeviceGovernor(new GovernorPolicy { MaxThreads = threads, MinThreads = 1 });
        return new GovernedJobs(admission, governor, new GovernorSampler(governor, temperature, battery, power, fan: null));
    }

    public void OnNext(GovernorDecision value)
    {
        if (value.Kind == GovernorDecisionKind.Drain)
            Admission.Pause(value.Why);
        else if (value.Kind == GovernorDecisionKind.Resume)
            Admission.Resume();
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sampling.Wait(TimeSpan.FromSeconds(5));
        _subscription?.Dispose();
        _stop.Dispose();
    }
}
