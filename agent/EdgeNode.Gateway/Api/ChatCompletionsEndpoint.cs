using System.Text;
using System.Text.Json;
using EdgeNode.Gateway.Jobs;
using EdgeNode.Gateway.Modes;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Chat;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace EdgeNode.Gateway.Api;

/// <summary>POST /v1/chat/completions: the messages rendered in the model's chat format, the reply whole or streamed.</summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ModelCatalog catalog, GatewayOptions options, ModePicker picker, IHostApplicationLifetime lifetime)
    {
        var request = await RequestBody.ReadAsync(context.Request, GatewayJsonContext.Default.ChatCompletionRequest, options.MaxRequestBodyBytes).ConfigureAwait(false);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var runner = catalog.Get(request.Model);
        var serving = RequestServing.Begin(context, runner, picker, async: false);
        if (request.Stream != true)
        {
            var completion = await AnswerAsync(request, catalog, options, serving, null, cancel.Token).ConfigureAwait(false);
            if (completion.EdgenodeReceipt is { } receipt)
                context.Response.Headers[RequestServing.ReceiptHeader] = receipt;
            await context.Response.WriteAsJsonAsync(completion, GatewayJsonContext.Default.ChatCompletion, contentType: null, cancellationToken: cancel.Token).ConfigureAwait(false);
            return;
        }

        // A local run waits for the model's turn before the stream opens, so a queued request gets no headers yet.
        var prepared = serving.Mode.PlugIn is null ? await PrepareAsync(request, runner, serving.Contributor, options, cancel.Token).ConfigureAwait(false) : null;
        using var turn = prepared;
        var id = ResponseIds.New("chatcmpl");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var events = new ServerSentEvents(context.Response);
        // OpenAI's stream opens with the role and empty content, then sends content deltas.
        await WriteChunkAsync(events, id, created, runner.Id, "", role: true, null, null).ConfigureAwait(false);
        ServedGeneration streamed;
        try
        {
            Func<string, ValueTask> onPiece = piece => WriteChunkAsync(events, id, created, runner.Id, piece, role: false, null, null);
            streamed = prepared is not null
                ? await ServedGeneration.LocalAsync(prepared, onPiece, cancel.Token).ConfigureAwait(false)
                : await ServedGeneration.PlugInAsync(serving.Mode.PlugIn!, runner, JobsEndpoints.ChatCompletionsUrl,
                    JsonSerializer.SerializeToElement(request, GatewayJsonContext.Default.ChatCompletionRequest), onPiece, cancel.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ApiError or ArgumentException)
        {
            await events.ErrorAsync(e as ApiError ?? ApiError.InvalidRequest(e.Message)).ConfigureAwait(false);
            return;
        }
        var signed = serving.Settle(id, runner.Id, streamed.PromptTokens, streamed.CompletionTokens, streamed.Layers, streamed.Precision);
        await WriteChunkAsync(events, id, created, runner.Id, null, role: false, streamed.FinishReason, signed).ConfigureAwait(false);
        if (request.StreamOptions?.IncludeUsage == true)
            await CompletionsEndpoint.WriteUsageChunkAsync(events, id, created, runner.Id, "chat.completion.chunk", streamed.PromptTokens, streamed.CompletionTokens, serving.Mode.Name).ConfigureAwait(false);
        await events.DoneAsync().ConfigureAwait(false);
    }

    /// <summary>The whole answer, as a non-streaming request gets it (an async job runs the same).</summary>
    internal static async Task<ChatCompletion> AnswerAsync(ChatCompletionRequest request, ModelCatalog catalog, GatewayOptions options, RequestServing serving,
        Func<string, ValueTask>? onPiece, CancellationToken cancellation)
    {
        var runner = catalog.Get(request.Model);
        var served = serving.Mode.PlugIn is { } plugIn
            ? await ServedGeneration.PlugInAsync(plugIn, runner, JobsEndpoints.ChatCompletionsUrl,
                JsonSerializer.SerializeToElement(request, GatewayJsonContext.Default.ChatCompletionRequest), onPiece, cancellation).ConfigureAwait(false)
            : await ServedGeneration.LocalAsync(await PrepareAsync(request, runner, serving.Contributor, options, cancellation).ConfigureAwait(false), onPiece, cancellation).ConfigureAwait(false);
        var id = ResponseIds.New("chatcmpl");
        return new ChatCompletion
        {
            Id = id, Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Model = runner.Id,
            Choices = [new ChatChoice { Message = new ChatMessageOutput { Content = served.Text }, FinishReason = served.FinishReason }],
            Usage = new Usage { PromptTokens = served.PromptTokens, CompletionTokens = served.CompletionTokens, EdgenodeMode = serving.Mode.Name },
            EdgenodeReceipt = serving.Settle(id, runner.Id, served.PromptTokens, served.CompletionTokens, served.Layers, served.Precision),
        };
    }

    /// <summary>Checks the request, waits for the model's turn and renders the messages; dispose the result to hand the turn on.</summary>
    private static async Task<PreparedGeneration> PrepareAsync(ChatCompletionRequest request, ModelRunner runner, bool first, GatewayOptions options, CancellationToken cancellation)
    {
        var messages = Messages(request.Messages);
        var turn = await runner.WaitTurnAsync(first, cancellation).ConfigureAwait(false);
        try
        {
            var model = turn.Model;
            var (promptTokens, endOfTurn) = Encode(model, runner.Id, messages, options.FallbackChatTemplate);
            var (maxTokens, maxParam) = request.MaxCompletionTokens is { } newer ? (newer, "max_completion_tokens") : (request.MaxTokens, "max_tokens");
            var generation = SamplingParameters.Build("messages", promptTokens.Length, model.Config.MaxSeqLen, maxTokens, maxParam, null,
                request.Temperature, request.TopP, request.Seed, request.Stop, request.N) with { StopTokens = endOfTurn };
            return new PreparedGeneration(runner, turn, promptTokens, generation);
        }
        catch
        {
            turn.Dispose();
            throw;
        }
    }

    internal static List<ChatMessage> Messages(List<ChatMessageInput>? input)
    {
        if (input is null)
            throw ApiError.MissingParameter("messages");
        if (input.Count == 0)
            throw ApiError.InvalidRequest("'messages' must hold at least one message.", "messages", "invalid_value");
        var messages = new List<ChatMessage>(input.Count);
        for (var i = 0; i < input.Count; i++)
        {
            var role = input[i].Role switch
            {
                null => throw ApiError.MissingParameter($"messages[{i}].role"),
                // The newer name of the system role.
                "developer" => "system",
                "system" or "user" or "assistant" => input[i].Role!,
                var other => throw ApiError.InvalidRequest($"'{other}' is not a supported role in messages[{i}]: use system, developer, user or assistant.", $"messages[{i}].role", "invalid_value"),
            };
            messages.Add(new ChatMessage(role, Content(input[i].Content, i)));
        }
        return messages;
    }

    /// <summary>A message's text: a string, or the "text" parts of a content array joined.</summary>
    private static string Content(JsonElement? content, int index)
    {
        if (content is not { } value || value.ValueKind == JsonValueKind.Null)
            return "";
        if (value.ValueKind == JsonValueKind.String)
            return value.GetString()!;
        if (value.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            foreach (var part in value.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                    throw ApiError.InvalidRequest($"messages[{index}].content holds a part without a \"type\".", $"messages[{index}].content", "invalid_value");
                if (type.GetString() != "text" || !part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                    throw ApiError.InvalidRequest($"messages[{index}].content holds a '{type.GetString()}' part; this node reads text parts only.", $"messages[{index}].content", "invalid_value");
                text.Append(partText.GetString());
            }
            return text.ToString();
        }
        throw ApiError.InvalidRequest($"messages[{index}].content must be a string or an array of text parts.", $"messages[{index}].content", "invalid_type");
    }

    internal static (int[] PromptTokens, IReadOnlySet<int> EndOfTurn) Encode(LocalModel model, string id, List<ChatMessage> messages, string? fallbackTemplate) =>
        Encode(PromptModel.Of(model), id, messages, fallbackTemplate);

    internal static (int[] PromptTokens, IReadOnlySet<int> EndOfTurn) Encode(PromptModel model, string id, List<ChatMessage> messages, string? fallbackTemplate)
    {
        var template = TemplateFor(model, id, fallbackTemplate);
        try
        {
            var text = template.Render(messages, new ChatRenderOptions { AddGenerationPrompt = true });
            return (ChatPromptEncoder.Encode(model.Tokenizer, template, text), ChatPromptEncoder.EndOfTurnIds(model.Tokenizer, template));
        }
        catch (ChatTemplateException e)
        {
            throw ApiError.InvalidRequest($"The messages do not fit the {template.Name} chat format of '{id}': {e.Message}", "messages", "invalid_value");
        }
    }

    /// <summary>The format recorded in the model's manifest, else the one its tokenizer_config.json names, else the node's fallback.</summary>
    private static ChatTemplate TemplateFor(PromptModel model, string id, string? fallbackTemplate)
    {
        var name = model.Manifest.ChatTemplate;
        if (name is null)
        {
            var config = Path.Combine(model.Folder, "tokenizer_config.json");
            name = File.Exists(config) ? ChatTemplates.DetectInTokenizerConfig(config) : null;
        }
        name ??= fallbackTemplate
            ?? throw ApiError.InvalidRequest($"The model '{id}' records no chat format, so it can only serve /v1/completions; start edgenode serve with --chat-template NAME ({string.Join(", ", ChatTemplates.Names)}) to chat with it.", "model", "no_chat_template");
        return ChatTemplates.Get(name);
    }

    private static ValueTask WriteChunkAsync(ServerSentEvents events, string id, long created, string model, string? content, bool role, string? finishReason, string? receipt)
    {
        var json = events.BeginChunk(id, "chat.completion.chunk", created, model);
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        if (role)
            json.WriteString("role", "assistant");
        if (content is not null)
            json.WriteString("content", content);
        json.WriteEndObject();
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
}
