using System.Text.Json;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Gateway.Modes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace EdgeNode.Gateway.Api;

/// <summary>POST /v1/completions: a text prompt continued by the model, whole or streamed.</summary>
internal static class CompletionsEndpoint
{
    /// <summary>OpenAI's default when max_tokens is not given.</summary>
    public const int DefaultMaxTokens = 16;

    public static async Task HandleAsync(HttpContext context, ModelCatalog catalog, GatewayOptions options, ModePicker picker, IHostApplicationLifetime lifetime)
    {
        var request = await RequestBody.ReadAsync(context.Request, GatewayJsonContext.Default.CompletionRequest, options.MaxRequestBodyBytes).ConfigureAwait(false);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var runner = catalog.Get(request.Model);
        var serving = RequestServing.Begin(context, runner, picker, async: false);
        if (request.Stream != true)
        {
            var completion = await AnswerAsync(request, catalog, serving, null, cancel.Token).ConfigureAwait(false);
            if (completion.EdgenodeReceipt is { } receipt)
                context.Response.Headers[RequestServing.ReceiptHeader] = receipt;
            await context.Response.WriteAsJsonAsync(completion, GatewayJsonContext.Default.Completion, contentType: null, cancellationToken: cancel.Token).ConfigureAwait(false);
            return;
        }

        var prepared = serving.Mode.PlugIn is null ? await PrepareAsync(request, runner, serving.Contributor, cancel.Token).ConfigureAwait(false) : null;
        using var turn = prepared;
        var id = ResponseIds.New("cmpl");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var events = new ServerSentEvents(context.Response);
        ServedGeneration streamed;
        try
        {
            Func<string, ValueTask> onPiece = piece => WriteChunkAsync(events, id, created, runner.Id, piece, null, null);
            streamed = prepared is not null
                ? await ServedGeneration.LocalAsync(prepared, onPiece, cancel.Token).ConfigureAwait(false)
                : await ServedGeneration.PlugInAsync(serving.Mode.PlugIn!, runner, JobsEndpoints.CompletionsUrl,
                    JsonSerializer.SerializeToElement(request, GatewayJsonContext.Default.CompletionRequest), onPiece, cancel.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiError or ArgumentException)
        {
            await events.ErrorAsync(e as ApiError ?? ApiError.InvalidRequest(e.Message)).ConfigureAwait(false);
            return;
        }
        var signed = serving.Settle(id, runner.Id, streamed.PromptTokens, streamed.CompletionTokens, streamed.Layers, streamed.Precision);
        await WriteChunkAsync(events, id, created, runner.Id, "", streamed.FinishReason, signed).ConfigureAwait(false);
        if (request.StreamOptions?.IncludeUsage == true)
            await WriteUsageChunkAsync(events, id, created, runner.Id, "text_completion", streamed.PromptTokens, streamed.CompletionTokens, serving.Mode.Name).ConfigureAwait(false);
        await events.DoneAsync().ConfigureAwait(false);
    }

    /// <summary>The whole answer, as a non-streaming request gets it (an async job runs the same).</summary>
    /// <param name="onPiece">Sees each piece of text as it is decoded (a job's progress), or null.</param>
    internal static async Task<Completion> AnswerAsync(CompletionRequest request, ModelCatalog catalog, RequestServing serving, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        var runner = catalog.Get(request.Model);
        var served = serving.Mode.PlugIn is { } plugIn
            ? await ServedGeneration.PlugInAsync(plugIn, runner, JobsEndpoints.CompletionsUrl,
                JsonSerializer.SerializeToElement(request, GatewayJsonContext.Default.CompletionRequest), onPiece, cancellation).ConfigureAwait(false)
            : await ServedGeneration.LocalAsync(await PrepareAsync(request, runner, serving.Contributor, cancellation).ConfigureAwait(false), onPiece, cancellation).ConfigureAwait(false);
        var id = ResponseIds.New("cmpl");
        return new Completion
        {
            Id = id, Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Model = runner.Id,
            Choices = [new CompletionChoice { Text = served.Text, FinishReason = served.FinishReason }],
            Usage = new Usage { PromptTokens = served.PromptTokens, CompletionTokens = served.CompletionTokens, EdgenodeMode = serving.Mode.Name },
            EdgenodeReceipt = serving.Settle(id, runner.Id, served.PromptTokens, served.CompletionTokens, served.Layers, served.Precision),
        };
    }

    /// <summary>Checks the request, waits for the model's turn and encodes the prompt; dispose the result to hand the turn on.</summary>
    private static async Task<PreparedGeneration> PrepareAsync(CompletionRequest request, ModelRunner runner, bool first, CancellationToken cancellation)
    {
        var prompt = PromptText(request.Prompt);
        var turn = await runner.WaitTurnAsync(first, cancellation).ConfigureAwait(false);
        try
        {
            var model = turn.Model;
            var promptTokens = model.Tokenizer.Encode(prompt);
            var generation = SamplingParameters.Build("prompt", promptTokens.Length, model.Config.MaxSeqLen, request.MaxTokens, "max_tokens", DefaultMaxTokens,
                request.Temperature, request.TopP, request.Seed, request.Stop, request.N);
            return new PreparedGeneration(runner, turn, promptTokens, generation);
        }
        catch
        {
            turn.Dispose();
            throw;
        }
    }

    /// <summary>The prompt: a string, or an array holding exactly one string (this node answers one prompt per request).</summary>
    internal static string PromptText(JsonElement? prompt)
    {
        if (prompt is not { } value || value.ValueKind == JsonValueKind.Null)
            throw ApiError.MissingParameter("prompt");
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString()!;
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && value[0].ValueKind == JsonValueKind.String)
            return value[0].GetString()!;
        throw ApiError.InvalidRequest("'prompt' must be a string (or an array holding one string); token-id prompts and several prompts per request are not supported.", "prompt", "invalid_value");
    }

    private static ValueTask WriteChunkAsync(ServerSentEvents events, string id, long created, string model, string text, string? finishReason, string? receipt)
    {
        var json = events.BeginChunk(id, "text_completion", created, model);
        json.WriteStartObject();
        json.WriteString("text", text);
        json.WriteNumber("index", 0);
        json.WriteNull("logprobs");
        ServerSentEvents.WriteNullable(json, "finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        // The last chunk carries the receipt: a stream's headers leave before its token counts are known.
        if (receipt is not null)
            json.WriteString("edgenode_receipt", receipt);
        json.WriteEndObject();
        return events.EndAsync();
    }

    /// <summary>stream_options.include_usage: a last chunk with no choices and the counts.</summary>
    internal static ValueTask WriteUsageChunkAsync(ServerSentEvents events, string id, long created, string model, string objectName, int promptTokens, int completionTokens, string mode)
    {
        var json = events.BeginChunk(id, objectName, created, model);
        json.WriteEndArray();
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", promptTokens);
        json.WriteNumber("completion_tokens", completionTokens);
        json.WriteNumber("total_tokens", promptTokens + completionTokens);
        json.WriteString("edgenode_mode", mode);
        json.WriteEndObject();
        json.WriteEndObject();
        return events.EndAsync();
    }
}
