using System.Buffers;
using System.Text.Json;
using EdgeNode.Gateway.Api;
using EdgeNode.Gateway.Jobs;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace EdgeNode.Gateway.Dashboard;

/// <summary>
/// GET /v1/dashboard/events: a Server-Sent Events stream of <see cref="DashboardSnapshot"/>, one a second, until the
/// client leaves or the node stops. "?limit=N" ends the stream after N snapshots (limit=1 is a one-shot read for scripts).
/// </summary>
internal static class DashboardEvents
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);
    private static readonly byte[] s_data = "data: "u8.ToArray();
    private static readonly byte[] s_end = "\n\n"u8.ToArray();

    public static async Task StreamAsync(HttpContext context, ModelCatalog catalog, IHostApplicationLifetime lifetime)
    {
        var limit = Limit(context.Request.Query["limit"]);
        var jobs = context.RequestServices.GetService(typeof(JobStore)) as JobStore;
        var credits = context.RequestServices.GetService(typeof(Credits.NodeCredits)) as Credits.NodeCredits;
        var pool = (context.RequestServices.GetService(typeof(GatewayPlugIns)) as GatewayPlugIns)?.PoolStatus;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var response = context.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await using var json = new Utf8JsonWriter(response.BodyWriter);
        using var timer = new PeriodicTimer(s_interval);
        for (var sent = 0; limit is null || sent < limit; sent++)
        {
            if (sent > 0 && !await Tick(timer, cancel.Token).ConfigureAwait(false))
                return;
            response.BodyWriter.Write(s_data);
            json.Reset(response.BodyWriter);
            JsonSerializer.Serialize(json, Snapshot(catalog, jobs, credits, pool), GatewayJsonContext.Default.DashboardSnapshot);
            json.Flush();
            response.BodyWriter.Write(s_end);
            var flushed = await response.BodyWriter.FlushAsync(cancel.Token).ConfigureAwait(false);
            if (flushed.IsCanceled || flushed.IsCompleted)
                return;
        }
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken cancellation)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client left or the node is stopping: the stream simply ends.
            return false;
        }
    }

    private static int? Limit(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        return int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var limit) && limit > 0
            ? limit
            : throw ApiError.InvalidRequest($"'limit' must be a positive whole number of snapshots, not '{text}'.", "limit", "invalid_value");
    }

    internal static DashboardSnapshot Snapshot(ModelCatalog catalog, JobStore? jobs, Credits.NodeCredits? credits = null, Func<JsonElement?>? pool = null)
    {
        var stats = catalog.Stats;
        return new DashboardSnapshot
        {
            UptimeSeconds = Math.Round(stats.Uptime.TotalSeconds, 1),
            WorkingSetBytes = Environment.WorkingSet,
            ManagedHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
            Requests = stats.Requests,
            Tokens = stats.Tokens,
            Models = [.. catalog.Ids.Select(id => catalog.Get(id)).Select(runner => new DashboardModel
            {
                Id = runner.Id, Precision = runner.LoadedPrecision, Loaded = runner.LoadedPrecision is not null,
                QueueDepth = runner.Pending, Requests = runner.Requests, Tokens = runner.CompletionTokens,
            })],
            Recent = [.. stats.Recent().Select(run => new DashboardRun
            {
                Model = run.Model, Tokens = run.Tokens, Seconds = Math.Round(run.Seconds, 3),
                TokensPerSecond = Math.Round(run.TokensPerSecond, 1), FinishedAtMs = run.FinishedAtMs,
            })],
            Jobs = jobs?.CountByStatus(),
            Credits = credits is null ? null : Credits.CreditsEndpoints.DashboardSummary(credits),
            Pool = pool?.Invoke(),
        };
    }
}
