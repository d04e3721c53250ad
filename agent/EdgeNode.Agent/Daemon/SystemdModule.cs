using System.Globalization;
using EdgeNode.Gateway;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// sd_notify for `edgenode serve` run as a systemd service of Type=notify: READY=1 once the daemon listens,
/// WATCHDOG=1 at half the interval systemd asks for (WatchdogSec=), STOPPING=1 when it begins to stop.
/// Nothing happens without NOTIFY_SOCKET, so the same binary runs unchanged from a shell or a container.
/// </summary>
internal sealed class SystemdModule : IServeModule
{
    public void ConfigureServices(IServiceCollection services) =>
        services.AddHostedService(provider => new SystemdNotifications(new SystemdNotifier(), provider.GetRequiredService<IHostApplicationLifetime>(), Environment.GetEnvironmentVariable));

    public void MapRoutes(IEndpointRouteBuilder routes)
    {
    }
}

/// <summary>The notifications themselves; <see cref="WatchdogInterval"/> reads systemd's WATCHDOG_USEC and WATCHDOG_PID.</summary>
internal sealed class SystemdNotifications(ISystemdNotifier notifier, IHostApplicationLifetime lifetime, Func<string, string?> variable) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _watchdog = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!notifier.IsEnabled)
            return Task.CompletedTask;
        // ApplicationStarted fires after the listener is bound: READY means clients can connect.
        lifetime.ApplicationStarted.Register(() => notifier.Notify(ServiceState.Ready));
        lifetime.ApplicationStopping.Register(() => notifier.Notify(ServiceState.Stopping));
        if (WatchdogInterval(variable, Environment.ProcessId) is { } interval)
            _watchdog = KeepAliveAsync(interval / 2, _stop.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watchdog.ConfigureAwait(false);
    }

    /// <summary>systemd's watchdog interval for this process, or null when none is set or it is meant for another process.</summary>
    internal static TimeSpan? WatchdogInterval(Func<string, string?> variable, int processId)
    {
        if (!long.TryParse(variable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds <= 0)
            return null;
        if (variable("WATCHDOG_PID") is { Length: > 0 } pid && pid != processId.ToString(CultureInfo.InvariantCulture))
            return null;
        return TimeSpan.FromMicroseconds(microseconds);
    }

    private async Task KeepAliveAsync(TimeSpan period, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            do
                notifier.Notify(new ServiceState("WATCHDOG=1"));
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public void Dispose() => _stop.Dispose();
}
