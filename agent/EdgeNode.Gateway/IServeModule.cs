using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeNode.Gateway;

/// <summary>
/// A piece of the node daemon that lives in the same host as the HTTP API (pool membership, the data plane, the
/// verifier, systemd notifications): it adds its services (hosted services start and stop with the daemon, so
/// SIGTERM reaches them) and, if it has any, its routes on the one listener.
/// </summary>
public interface IServeModule
{
    void ConfigureServices(IServiceCollection services);

    void MapRoutes(IEndpointRouteBuilder routes);
}
