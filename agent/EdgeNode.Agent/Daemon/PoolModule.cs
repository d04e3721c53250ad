using System.Text.Json;
using EdgeNode.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Agent.Daemon;

/// <summary>
/// `edgenode serve --pool NAME`: the node's part of a LAN pool, started and stopped with the daemon (so SIGTERM leaves
/// the pool before the data plane stops). The work is <see cref="PoolDaemon"/>'s. GET /v1/pool/node reports what the
/// node's data plane has sent, so `edgenode bench --pool` can measure bytes per token per hop on real processes.
/// </summary>
internal sealed class PoolModule(PoolDaemonOptions options) : IServeModule
{
    public void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton(provider => new PoolDaemon(options, provider.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService(provider => provider.GetRequiredService<PoolDaemon>());
    }

    public void MapRoutes(IEndpointRouteBuilder routes) => routes.MapGet("/v1/pool/node", (RequestDelegate)NodeAsync);

    private static async Task NodeAsync(HttpContext context)
    {
        var counters = context.RequestServices.GetRequiredService<PoolDaemon>().Counters();
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, counters, PoolNodeJsonContext.Default.PoolNodeCounters, context.RequestAborted).ConfigureAwait(false);
    }
}
