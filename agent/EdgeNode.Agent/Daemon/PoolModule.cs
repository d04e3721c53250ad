using EdgeNode.Gateway;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// `edgenode serve --pool NAME`: the node's part of a LAN pool, started and stopped with the daemon (so SIGTERM leaves
/// the pool before the data plane stops). The work is <see cref="PoolDaemon"/>'s.
/// </summary>
internal sealed class PoolModule(PoolDaemonOptions options) : IServeModule
{
    public void ConfigureServices(IServiceCollection services) =>
        services.AddHostedService(provider => new PoolDaemon(options, provider.GetRequiredService<ILoggerFactory>()));

    public void MapRoutes(IEndpointRouteBuilder routes)
    {
    }
}
