using System.Text.Json;
using EdgeNode.Gateway.Api;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Jobs;

/// <summary>
/// POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/{id}, POST /v1/jobs/{id}/cancel: requests run later, stored until they
/// finish and kept for the retention period. A job's body is one line of OpenAI's batch input.
/// </summary>
internal static class JobsEndpoints
{
    public const string CompletionsUrl = "/v1/completions";
    public const string ChatCompletionsUrl = "/v1/chat/completions";
    private const int MaxIdempotencyKeyLength = 256;

    public static async Task SubmitAsync(HttpContext context, JobStore store, JobRunner runner, ModelCatalog catalog, GatewayOptions options, Modes.ModePicker picker)
    {
        var submission = await RequestBody.ReadAsync(context.Request, GatewayJsonContext.Default.JobSubmission, options.MaxRequestBodyBytes).ConfigureAwait(false);
        if (submission.Url is null)
            throw ApiError.MissingParameter("url");
        if (submission.Url is not (CompletionsUrl or ChatCompletionsUrl))
            throw ApiError.InvalidRequest($"'url' must be {CompletionsUrl} or {ChatCompletionsUrl}, not '{submission.Url}'.", "url", "invalid_value");
        if (submission.Body is not { ValueKind: JsonValueKind.Object } body)
            throw ApiError.InvalidRequest("'body' must be the JSON object the endpoint takes.", "body", "invalid_value");
        // An unknown model, a model no mode here can serve, or a key out of credits is refused now rather than failing
        // later; every other check runs with the job.
        var keyId = (context.RequestServices.GetService(typeof(Credits.NodeCredits)) as Credits.NodeCredits)?.KeyIdOf(Credits.CallerKey.Of(context)) ?? Ledger.AccountIds.Anonymous;
        if (body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String)
            _ = RequestServing.Begin(context, catalog.Get(model.GetString()), picker, async: true);
        if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
            throw ApiError.InvalidRequest("A job cannot stream; leave 'stream' out of its body and fetch the result with GET /v1/jobs/{id}.", "body.stream", "invalid_value");
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > MaxIdempotencyKeyLength)
            throw ApiError.InvalidRequest($"The Idempotency-Key header is longer than {MaxIdempotencyKeyLength} characters.", null, "invalid_value");
        var (job, created) = store.Submit(submission.CustomId, submission.Url, body.GetRawText(), key.Length == 0 ? null : key, keyId);
        if (created)
            runner.Wake();
        await WriteAsync(context, View(job, runner)).ConfigureAwait(false);
    }

    public static Task GetAsync(HttpContext context, string id, JobStore store, JobRunner runner) =>
        WriteAsync(context, View(store.Get(id) ?? throw NotFound(id), runner));

    public static Task ListAsync(HttpContext context, JobStore store, JobRunner runner)
    {
        var limitText = context.Request.Query["limit"].ToString();
        var limit = 20;
        if (limitText.Length > 0 && (!int.TryParse(limitText, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > 1000))
            throw ApiError.InvalidRequest($"'limit' must be a whole number from 1 to 1000, not '{limitText}'.", "limit", "invalid_value");
        var after = context.Request.Query["after"].ToString();
        var (jobs, more) = store.List(limit, after.Length == 0 ? null : after);
        var list = new JobList { Data = [.. jobs.Select(j => View(j, runner))], HasMore = more };
        return context.Response.WriteAsJsonAsync(list, GatewayJsonContext.Default.JobList, contentType: null, cancellationToken: context.RequestAborted);
    }

    public static async Task CancelAsync(HttpContext context, string id, JobStore store, JobRunner runner)
    {
        var job = store.CancelIfQueued(id) ?? throw NotFound(id);
        if (job.Status == JobStatus.InProgress && runner.CancelRunning(id))
        {
            // The run stops at its next token; wait for it so the answer shows the final state.
            for (var i = 0; i < 100 && job.Status == JobStatus.InProgress; i++)
            {
                await Task.Delay(50, context.RequestAborted).ConfigureAwait(false);
                job = store.Get(id)!;
            }
        }
        if (job.Status is JobStatus.Completed or JobStatus.Failed)
            throw ApiError.InvalidRequest($"The job {id} has already {job.Status}; there is nothing to cancel.", "id", "job_finished");
        await WriteAsync(context, View(job, runner)).ConfigureAwait(false);
    }

    private static ApiError NotFound(string id) =>
        new(404, $"No job with id '{id}' (finished jobs are kept for the retention period, then removed).", "invalid_request_error", "id", "job_not_found");

    private static Task WriteAsync(HttpContext context, JobView view) =>
        context.Response.WriteAsJsonAsync(view, GatewayJsonContext.Default.JobView, contentType: null, cancellationToken: context.RequestAborted);

    private static JobView View(Job job, JobRunner runner)
    {
        JobResponse? response = null;
        long characters = 0;
        double fraction = job.Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled ? 1 : 0;
        if (job.Result is { } result && job.StatusCode is { } status)
        {
            using var document = JsonDocument.Parse(result);
            response = new JobResponse { StatusCode = status, Body = document.RootElement.Clone() };
            characters = TextLength(document.RootElement);
        }
        else if (job.Status == JobStatus.InProgress && runner.ProgressOf(job.Id) is { } running)
        {
            characters = running.Characters;
            // Roughly four characters a token in English text; capped below 1 until the job is recorded finished.
            fraction = running.MaxTokens > 0 ? Math.Min(0.99, characters / (4.0 * running.MaxTokens)) : 0;
        }
        return new JobView
        {
            Id = job.Id, CustomId = job.CustomId, Url = job.Url, Status = job.Status, CreatedAt = job.CreatedAt,
            StartedAt = job.StartedAt, FinishedAt = job.FinishedAt, Attempts = job.Attempts,
            Progress = new JobProgress { Characters = characters, Fraction = fraction },
            Response = response,
        };
    }

    /// <summary>Length of the answer's text (choices[0].text or choices[0].message.content), for a finished job's progress.</summary>
    private static long TextLength(JsonElement answer)
    {
        if (!answer.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            return 0;
        var choice = choices[0];
        if (choice.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            return text.GetString()!.Length;
        return choice.TryGetProperty("message", out var message) && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String
            ? content.GetString()!.Length
            : 0;
    }
}
