using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using EdgeNode.Gateway;
using EdgeNode.Gateway.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Verifier;

/// <summary>
/// The verifier as a piece of `edgenode serve`: its session table as a service, its routes on the gateway's listener, so
/// they share its port, keep-alive connections, API keys, rate limits, body limit and error shape:
/// POST /v1/verifier/sessions (open), POST /v1/verifier/sessions/{id}/verify, DELETE /v1/verifier/sessions/{id} (close),
/// GET /v1/verifier/stats. The protocol is in docs/speculative.md.
/// </summary>
public sealed class VerifierModule(VerifierOptions options) : IServeModule
{
    public void ConfigureServices(IServiceCollection services)
    {
        options.Validate();
        // A singleton the host disposes at stop: the sweep timer ends and every session's KV cache is freed.
        services.AddSingleton(provider => new VerifierService(options, provider.GetRequiredService<ModelCatalog>(),
            provider.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeNode.Verifier")));
    }

    public void MapRoutes(IEndpointRouteBuilder routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var service = routes.ServiceProvider.GetRequiredService<VerifierService>();
        // Plain request delegates: the handlers read their own bodies and route values, nothing is bound by reflection.
        routes.MapPost("/v1/verifier/sessions", (RequestDelegate)(context => OpenAsync(context, service)));
        routes.MapPost("/v1/verifier/sessions/{id}/verify", (RequestDelegate)(context => VerifyAsync(context, service, IdOf(context))));
        routes.MapDelete("/v1/verifier/sessions/{id}", (RequestDelegate)(context => CloseAsync(context, service, IdOf(context))));
        routes.MapGet("/v1/verifier/stats", (RequestDelegate)(context =>
            context.Response.WriteAsJsonAsync(service.Stats, VerifierJsonContext.Default.VerifierStats, contentType: null, context.RequestAborted)));
        routes.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeNode.Verifier").LogInformation(
            "verifier on: draft limit {MaxDraft} tokens, session idle timeout {Idle} s, {Sessions} sessions, KV budget {Budget} MiB per model",
            options.MaxDraftTokens, options.SessionIdleTimeout.TotalSeconds, options.MaxSessions, options.KvBudgetBytes >> 20);
    }

    private static string IdOf(HttpContext context) => context.Request.RouteValues["id"] as string ?? "";

    private static async Task OpenAsync(HttpContext context, VerifierService service)
    {
        var request = await ReadAsync(context.Request, VerifierJsonContext.Default.OpenSessionRequest).ConfigureAwait(false);
        var response = await service.OpenAsync(request, context.RequestAborted).ConfigureAwait(false);
        context.Response.StatusCode = StatusCodes.Status201Created;
        await context.Response.WriteAsJsonAsync(response, VerifierJsonContext.Default.OpenSessionResponse, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task VerifyAsync(HttpContext context, VerifierService service, string id)
    {
        var request = await ReadAsync(context.Request, VerifierJsonContext.Default.VerifyRequest).ConfigureAwait(false);
        var response = await service.VerifyAsync(id, request, context.RequestAborted).ConfigureAwait(false);
        await context.Response.WriteAsJsonAsync(response, VerifierJsonContext.Default.VerifyResponse, contentType: null, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task CloseAsync(HttpContext context, VerifierService service, string id)
    {
        service.Close(id);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>The body as <typeparamref name="T"/>; broken JSON and fields of the wrong type are 400s naming the field.</summary>
    private static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class
    {
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            // Kestrel bounds the body (413 past the gateway's limit), so reading it whole is safe.
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
            body = buffer.ToArray();
        }
        if (body.Length == 0)
            throw ApiError.InvalidJson("the body is empty");
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            while (reader.Read())
            {
            }
        }
        catch (JsonException e)
        {
            throw ApiError.InvalidJson($"the body is not valid JSON (line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1})");
        }
        try
        {
            return JsonSerializer.Deserialize(body, type) ?? throw ApiError.InvalidJson("the body is null, not a JSON object");
        }
        catch (JsonException e)
        {
            var param = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            throw param is null
                ? ApiError.InvalidJson("the body must be a JSON object of the verifier's shape (docs/speculative.md)")
                : ApiError.InvalidRequest($"Invalid value for '{param}' (a token id is a whole number, a probability a number).", param, "invalid_type");
        }
    }
}
