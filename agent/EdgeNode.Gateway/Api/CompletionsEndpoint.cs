using System.Text.Json;
using EdgeNode.Inference.Generation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace EdgeNode.Gateway.Api;

/// <summary>POST /v1/completions: a text prompt continued by the model, whole or streamed.</summary>
internal static class CompletionsEndpoint
{
    /// <summary>OpenAI's default when max_tokens is not given.</summary>
    public const int DefaultMaxTokens = 16;

    public static async Task HandleAsync(HttpContext context, ModelCatalog catalog, GatewayOptions options, IHostApplicationLifetime lifetime)
    {
        var request = await RequestBody.ReadAsync(context.Request, GatewayJsonContext.Default.CompletionRequest, options.MaxRequestBodyBytes).ConfigureAwait(false);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        if (request.Stream != true)
        {
            var completion = await AnswerAsync(request, catalog, null, cancel.Token).ConfigureAwait(false);
            await context.Response.WriteAsJsonAsync(completion, GatewayJsonContext.Default.Completion, contentType: null, cancellationToken: cancel.Token).ConfigureAwait(false);
            return;
        }

        using var prepared = await PrepareAsync(request, catalog, cancel.Token).ConfigureAwait(false);
        var (runner, turn, promptTokens, generation) = prepared;
        var id = ResponseIds.New("cmpl");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var events = new ServerSentEvents(context.Response);
        GenerationResult streamed;
        try
        {
            streamed = await GenerationRun.RunAsync(prepared,
                piece => WriteChunkAsync(events, id, created, runner.Id, piece, null), cancel.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiError or ArgumentException)
        {
            await events.ErrorAsync(e as ApiError ?? ApiError.InvalidRequest(e.Message)).ConfigureAwait(false);
            return;
        }
        await WriteChunkAsync(events, id, created, runner.Id, "", SamplingParameters.FinishReason(streamed.StopReason)).ConfigureAwait(false);
        if (request.StreamOptions?.IncludeUsage == true)
            await WriteUsageChunkAsync(events, id, created, runner.Id, "text_completion", promptTokens.Length, streamed.Tokens.Length).ConfigureAwait(false);
        await events.DoneAsync().ConfigureAwait(false);
    }

    /// <summary>The whole answer, as a non-streaming request gets it (an async job runs the same).</summary>
    /// <param name="onPiece">Sees each piece of text as it is decoded (a job's progress), or null.</param>
    internal static async Task<Completion> AnswerAsync(CompletionRequest request, ModelCatalog catalog, Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        using var prepared = await PrepareAsync(request, catalog, cancellation).ConfigureAwait(false);
        var result = await GenerationRun.RunAsync(prepared, onPiece, cancellation).ConfigureAwait(false);
        return new Completion
        {
            Id = ResponseIds.New("cmpl"), Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Model = prepared.Runner.Id,
            Choices = [new CompletionChoice { Text = result.Text, FinishReason = SamplingParameters.FinishReason(result.StopReason) }],
            Usage = new Usage { PromptTokens = prepared.PromptTokens.Length, CompletionTokens = result.Tokens.Length },
        };
    }

    /// <summary>Checks the request, waits for the model's turn and encodes the prompt; dispose the result to hand the turn on.</summary>
    private static async Task<PreparedGeneration> PrepareAsync(CompletionRequest request, ModelCatalog catalog, CancellationToken cancellation)
    {
        var runner = catalog.Get(request.Model);
        var prompt = PromptText(request.Prompt);
        var turn = await runner.WaitTurnAsync(cancellation).ConfigureAwait(false);
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
    private static string PromptText(JsonElement? prompt)
    {
        if (prompt is not { } value || value.ValueKind == JsonValueKind.Null)
            throw ApiError.MissingParameter("prompt");
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString()!;
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 1 && value[0].ValueKind == JsonValueKind.String)
            return value[0].GetString()!;
        throw ApiError.InvalidRequest("'prompt' must be a string (or an array holding one string); token-id prompts and several prompts per request are not supported.", "prompt", "invalid_value");
    }

    private static ValueTask WriteChunkAsync(ServerSentEvents events, string id, long created, string model, string text, string? finishReason)
    {
        var json = events.BeginChunk(id, "text_completion", created, model);
        json.WriteStartObject();
        json.WriteString("text", text);
        json.WriteNumber("index", 0);
        json.WriteNull("logprobs");
        ServerSentEvents.WriteNullable(json, "finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        return events.EndAsync();
    }

    /// <summary>stream_options.include_usage: a last chunk with no choices and the counts.</summary>
    internal static ValueTask WriteUsageChunkAsync(ServerSentEvents events, string id, long created, string model, string objectName, int promptTokens, int completionTokens)
    {
        var json = events.BeginChunk(id, objectName, created, model);
        json.WriteEndArray();
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", promptTokens);
        json.WriteNumber("completion_tokens", completionTokens);
        json.WriteNumber("total_tokens", promptTokens + completionTokens);
        json.WriteEndObject();
        json.WriteEndObject();
        return events.EndAsync();
    }
}
