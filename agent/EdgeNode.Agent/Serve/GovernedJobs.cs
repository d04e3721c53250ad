using EdgeNode.Drivers.Battery;
using EdgeNode.Drivers.Power;
using EdgeNode.Drivers.Thermal;
using EdgeNode.Gateway;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Governor;

namespace EdgeNode.Agent.Serve;

/// <summary>
/// Holds async jobs back while the device governor drains the node (too hot, battery low, over its power budget),
/// and lets them start again when it resumes; and passes its thread steps to the local models (<see cref="Threads"/>),
/// which follow between requests. On a machine with no SoC temperature, battery or power sensor there is nothing to
/// govern: jobs are always admitted and models keep --threads. The fan is left to whatever controls it: serve only
/// reads sensors.
/// </summary>
public sealed class GovernedJobs : IObserver<GovernorDecision>, IDisposable
{
    /// <summary>Often enough to pause jobs well before the kernel throttles (the governor drains a few degrees early).</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(2);

    private readonly IDisposable? _subscription;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling = Task.CompletedTask;
    private readonly int _configuredThreads;

    /// <param name="configuredThreads">--threads (0: ONNX Runtime's default); null: the governor's maximum.</param>
    public GovernedJobs(DeviceGovernor governor, JobAdmission admission, int? configuredThreads = null)
    {
        ArgumentNullException.ThrowIfNull(governor);
        Admission = admission;
        Governor = governor;
        _configuredThreads = configuredThreads ?? governor.Policy.MaxThreads;
        _subscription = governor.Subscribe(this);
    }

    private GovernedJobs(JobAdmission admission, DeviceGovernor? governor, GovernorSampler? sampler, int configuredThreads)
    {
        Admission = admission;
        Governor = governor;
        Sampler = sampler;
        _configuredThreads = configuredThreads;
        if (governor is null || sampler is null)
            return;
        _subscription = governor.Subscribe(this);
        _sampling = Task.Run(() => sampler.RunAsync(SampleInterval, _stop.Token));
    }

    public JobAdmission Admission { get; }

    /// <summary>The intra-op thread count the governor wants the local models to run with (null until its first decision).</summary>
    public SessionThreads Threads { get; } = new();

    /// <summary>The governor, or null on a machine with no sensor to govern by (the pool subscribes to its drains too).</summary>
    public DeviceGovernor? Governor { get; }

    /// <summary>The sampler whose last readings the pool publishes; null with <see cref="Governor"/>.</summary>
    public GovernorSampler? Sampler { get; }

    /// <summary>A governor over this machine's sensors under <paramref name="root"/>, sampled in the background; none when it has no sensor.</summary>
    /// <param name="threads">--threads: the count the node runs with unthrottled (0: ONNX Runtime's default, one per physical core).</param>
    public static GovernedJobs ForThisDevice(int threads, string root = "/")
    {
        var admission = new JobAdmission();
        var temperature = SocTemperatureSensor.Find(root);
        var battery = PowerSupplyBattery.Find(root);
        var power = HwmonPowerSensor.FindBoardInput(root);
        if (temperature is null && battery is null && power is null)
            return new GovernedJobs(admission, null, null, threads);
        // Unset threads run on every core ONNX Runtime sees: the governor sheds from the machine's count.
        var governor = new DeviceGovernor(new GovernorPolicy { MaxThreads = threads > 0 ? threads : Math.Max(1, Environment.ProcessorCount), MinThreads = 1 });
        return new GovernedJobs(admission, governor, new GovernorSampler(governor, temperature, battery, power, fan: null), threads);
    }

    /// <summary>
    /// The intra-op threads the node's sessions should run with after <paramref name="decision"/>: the governor's count,
    /// or --threads as given when the governor allows its maximum (so an unset --threads stays ONNX Runtime's default).
    /// </summary>
    public int ThreadsFor(GovernorDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return Governor is { } governor && decision.Threads < governor.Policy.MaxThreads ? decision.Threads : _configuredThreads;
    }

    public void OnNext(GovernorDecision value)
    {
        if (value.Kind == GovernorDecisionKind.Drain)
            Admission.Pause(value.Why);
        else if (value.Kind == GovernorDecisionKind.Resume)
            Admission.Resume();
        // Every decision carries the count to run with (a resume may come back at fewer threads than the drain left).
        Threads.Change(ThreadsFor(value), value.Why);
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
