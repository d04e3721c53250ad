using System.Diagnostics;
using System.Text.Json;
using EdgeNode.Gateway.Api;
using EdgeNode.Gateway.Credits;
using EdgeNode.Gateway.Dashboard;
using EdgeNode.Gateway.FairUse;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Gateway.Metrics;
using EdgeNode.Gateway.Modes;
using EdgeNode.Ledger;
using EdgeNode.Gateway.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace EdgeNode.Gateway;

/// <summary>
/// The HTTP server of `edgenode serve`: Kestrel on the one address the options name, the OpenAI-compatible routes,
/// API keys, the body limit and OpenAI-shaped errors. Logs are JSON lines on stderr, one object per event; by default
/// only start, model loads, stop and failures (per-request lines with <see cref="GatewayOptions.LogRequests"/>).
/// SIGTERM and SIGINT stop it: waiting requests are cancelled, running generations end at their next token.
/// </summary>
public static class GatewayHost
{
    public static async Task RunAsync(GatewayOptions options, IReadOnlyList<ServedModel> models, CancellationToken stop = default) =>
        await RunAsync(options, models, [], stop).ConfigureAwait(false);

    /// <summary>
    /// Runs the API with the daemon's other pieces (<paramref name="modules"/>) in the same host, and the serving modes
    /// and job gate in <paramref name="plugIns"/>.
    /// </summary>
    public static async Task RunAsync(GatewayOptions options, IReadOnlyList<ServedModel> models, IReadOnlyList<IServeModule> modules, CancellationToken stop = default, GatewayPlugIns? plugIns = null)
    {
        ArgumentNullException.ThrowIfNull(modules);
        options.Validate();
        plugIns ??= new GatewayPlugIns();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        ConfigureLogging(builder.Logging, options);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.Listen.Address, options.Listen.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(plugIns);
        builder.Services.AddSingleton(new BearerKeys(options.ApiKeys));
        builder.Services.AddSingleton(new RequestCounts());
        builder.Services.AddSingleton(new ClientLimits(options.KeyRateLimit, options.AddressRateLimit, options.ApiKeys.Count));
        builder.Services.AddSingleton(services => new ModelCatalog(models, options.MaxQueuedPerModel, new ServingStats(), services.GetRequiredService<ILoggerFactory>(), plugIns.Threads));
        builder.Services.AddSingleton(services => new ModePicker(new NodeMemory(options.MemoryBudgetBytes), plugIns.Modes,
            services.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeNode.Gateway.Modes")));
        if (options.LedgerDatabasePath is { } ledgerDatabase)
        {
            builder.Services.AddSingleton(services => new NodeCredits(NodeIdentity.LoadOrCreate(options.NodeKeyPath!), new CreditLedger(ledgerDatabase, options.CreditRates),
                options.ApiKeys, services.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeNode.Gateway.Credits")));
        }
        if (options.JobsDatabasePath is { } jobsDatabase)
        {
            builder.Services.AddSingleton(_ => new JobStore(jobsDatabase));
            builder.Services.AddSingleton(services => new JobRunner(services.GetRequiredService<JobStore>(), services.GetRequiredService<ModelCatalog>(), options,
                services.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeNode.Gateway.Jobs"), plugIns.JobAdmission, services.GetService<NodeCredits>()));
        }
        foreach (var module in modules)
            module.ConfigureServices(builder.Services);

        await using var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeNode.Gateway");
        var catalog = app.Services.GetRequiredService<ModelCatalog>();
        var keys = app.Services.GetRequiredService<BearerKeys>();
        var limits = app.Services.GetRequiredService<ClientLimits>();
        var requests = app.Services.GetRequiredService<RequestCounts>();
        app.Use((context, next) => Guard(context, next, keys, limits, requests, log));
        foreach (var module in modules)
            module.MapRoutes(app);
        MapRoutes(app, options.JobsDatabasePath is not null, options.LedgerDatabasePath is not null);
        // Opened before listening, so a database or key that cannot be opened stops the start with its reason.
        var credits = options.LedgerDatabasePath is null ? null : app.Services.GetRequiredService<NodeCredits>();
        var jobRunner = options.JobsDatabasePath is null ? null : app.Services.GetRequiredService<JobRunner>();

        await app.StartAsync(stop).ConfigureAwait(false);
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var jobs = jobRunner is null ? Task.CompletedTask : Task.Run(() => jobRunner.RunAsync(lifetime.ApplicationStopping), CancellationToken.None);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? options.Listen.ToString();
        log.LogInformation("listening on {Url} with {Count} models ({Models}); API keys {Keys}; rate limits {KeyRate} per key, {AddressRate} per address; body limit {Limit} bytes; jobs in {Jobs}; credits in {Ledger} as {Node}",
            url, catalog.Ids.Count, string.Join(", ", catalog.Ids), keys.Required ? "required" : "off (loopback only)",
            Describe(options.KeyRateLimit), Describe(options.AddressRateLimit), options.MaxRequestBodyBytes, options.JobsDatabasePath ?? "(off)",
            options.LedgerDatabasePath ?? "(off)", credits?.Identity.NodeId ?? "-");
        await app.WaitForShutdownAsync(stop).ConfigureAwait(false);
        await jobs.ConfigureAwait(false);
        log.LogInformation("stopped");
    }

    private static string Describe(RateLimit limit) => limit.Enabled ? $"{limit.PerMinute}/min (burst {limit.Burst})" : "off";

    private static void MapRoutes(WebApplication app, bool jobs, bool credits)
    {
        app.MapGet("/", PageFiles.DashboardAsync);
        app.MapGet("/dashboard", PageFiles.DashboardAsync);
        app.MapGet("/chat", PageFiles.ChatAsync);
        app.MapGet("/pages/{name}", PageFiles.AssetAsync);
        app.MapGet("/v1/dashboard/events", DashboardEvents.StreamAsync);
        app.MapGet("/v1/models", ModelsEndpoint.HandleAsync);
        app.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync);
        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        if (jobs)
        {
            app.MapPost("/v1/jobs", JobsEndpoints.SubmitAsync);
            app.MapGet("/v1/jobs", JobsEndpoints.ListAsync);
            app.MapGet("/v1/jobs/{id}", JobsEndpoints.GetAsync);
            app.MapPost("/v1/jobs/{id}/cancel", JobsEndpoints.CancelAsync);
        }
        if (credits)
        {
            app.MapGet("/v1/credits", CreditsEndpoints.GetAsync);
            app.MapPost("/v1/credits/receipts", CreditsEndpoints.SubmitReceiptAsync);
        }
        app.MapGet("/metrics", MetricsEndpoint.HandleAsync);
        app.MapFallback(context => throw ApiError.NotFound(context.Request.Method, context.Request.Path));
    }

    /// <summary>
    /// Every request: the address's allowance (before the key check, so guessing keys is limited too), the key check,
    /// the key's allowance, then the handler, with any failure answered in OpenAI's error shape.
    /// </summary>
    private static async Task Guard(HttpContext context, RequestDelegate next, BearerKeys keys, ClientLimits limits, RequestCounts requests, ILogger log)
    {
        var clock = Stopwatch.StartNew();
        // A scrape is not a client's use of the node: it is still authenticated, never rate limited, so monitoring
        // keeps seeing a node that is refusing everyone else.
        var scrape = context.Request.Path.Equals("/metrics", StringComparison.Ordinal);
        try
        {
            if (!scrape)
                limits.TakeForAddress(context.Connection.RemoteIpAddress);
            // The pages themselves hold nothing of the node's, so they need no key (the address's allowance still
            // applies); the API calls they make are checked like any other.
            if (!PageFiles.IsPagePath(context.Request.Path))
            {
                var key = keys.Check(context.Request);
                CallerKey.Set(context, key);
                if (!scrape)
                    limits.TakeForKey(key);
            }
            await next(context).ConfigureAwait(false);
        }
        catch (ApiError e)
        {
            await WriteErrorAsync(context, e, log).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left; there is no one to answer.
        }
        catch (OperationCanceledException)
        {
            await WriteErrorAsync(context, new ApiError(503, "The node is shutting down; send the request again once it is back.", "server_error", null, "shutting_down"), log).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ApiError.BodyTooLarge(context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0)
                : new ApiError(e.StatusCode, e.Message, "invalid_request_error"), log).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            log.LogError("{Method} {Path} failed: {Error}", context.Request.Method, context.Request.Path.Value, e.ToString());
            await WriteErrorAsync(context, ApiError.Internal(e.Message), log).ConfigureAwait(false);
        }
        requests.Count(context.Request.Method, RouteOf(context), context.Response.StatusCode);
        if (log.IsEnabled(LogLevel.Debug))
            log.LogDebug("{Method} {Path} {Status} in {Milliseconds:F1} ms", context.Request.Method, context.Request.Path.Value, context.Response.StatusCode, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>The route's template (so /v1/jobs/{id} is one series, not one per job); "other" for unknown URLs.</summary>
    private static string RouteOf(HttpContext context) =>
        context.GetEndpoint() is Microsoft.AspNetCore.Routing.RouteEndpoint { RoutePattern.RawText: { } route } && !route.StartsWith("{*", StringComparison.Ordinal)
            ? route
            : "other";

    private static async Task WriteErrorAsync(HttpContext context, ApiError error, ILogger log)
    {
        if (context.Response.HasStarted)
        {
            log.LogWarning("{Method} {Path}: {Error} after the answer began; closing the connection", context.Request.Method, context.Request.Path.Value, error.Message);
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        if (error.RetryAfterSeconds is { } seconds)
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (error.NotRetryable)
            context.Response.Headers["x-should-retry"] = "false";
        if (error.Status == StatusCodes.Status413PayloadTooLarge)
        {
            // The rest of an oversized body is not read: the connection cannot carry another request after this one.
            context.Response.Headers.Connection = "close";
        }
        await context.Response.WriteAsJsonAsync(error.ToBody(), GatewayJsonContext.Default.ErrorBody, contentType: null, cancellationToken: CancellationToken.None).ConfigureAwait(false);
    }

    private static void ConfigureLogging(ILoggingBuilder logging, GatewayOptions options)
    {
        logging.ClearProviders();
        logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = false;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            json.JsonWriterOptions = new JsonWriterOptions { Indented = false };
        });
        // stdout stays free for answers a script may read; every log line goes to stderr.
        logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter("EdgeNode", options.LogRequests ? LogLevel.Debug : LogLevel.Information);
    }
}
