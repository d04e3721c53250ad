using System.Text.Json;
using EdgeNode.Gateway.Api;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Gateway.Modes;

/// <summary>
/// A plug-in mode's request turned into what a local run of it would decode: the prompt's tokens (the chat format
/// rendered for chat) and the generator's options, checked with the same rules and errors as the local endpoints, so a
/// request answers the same whichever mode serves it.
/// </summary>
/// <param name="PromptTokens">The prompt's ids in the given model's tokenizer.</param>
/// <param name="Generation">Length, sampling, stop texts and (for chat) the end-of-turn ids.</param>
public sealed record RenderedRequest(int[] PromptTokens, GenerationOptions Generation)
{
    /// <summary>Renders <paramref name="body"/> of <paramref name="endpoint"/> with <paramref name="model"/>'s tokenizer and chat format.</summary>
    /// <param name="model">A model with the target's tokenizer (a draft model, whose tokenizer the verifier checks; or the target's own tokenizer and manifest).</param>
    /// <param name="modelId">The requested model, named in errors.</param>
    /// <param name="context">The positions the run may use (the target's context as the verifier reports it, or the draft's).</param>
    /// <param name="fallbackTemplate">The node's --chat-template, for a model that records none.</param>
    public static RenderedRequest Render(string endpoint, JsonElement body, LocalModel model, string modelId, int context, string? fallbackTemplate) =>
        Render(endpoint, body, PromptModel.Of(model), modelId, context, fallbackTemplate);

    /// <inheritdoc cref="Render(string, JsonElement, LocalModel, string, int, string?)"/>
    public static RenderedRequest Render(string endpoint, JsonElement body, PromptModel model, string modelId, int context, string? fallbackTemplate)
    {
        ArgumentNullException.ThrowIfNull(model);
        switch (endpoint)
        {
            case "/v1/completions":
            {
                var request = body.Deserialize(GatewayJsonContext.Default.CompletionRequest)
                    ?? throw ApiError.InvalidRequest("the request body is null", null, "invalid_value");
                var tokens = model.Tokenizer.Encode(CompletionsEndpoint.PromptText(request.Prompt));
                var generation = SamplingParameters.Build("prompt", tokens.Length, context, request.MaxTokens, "max_tokens", CompletionsEndpoint.DefaultMaxTokens,
                    request.Temperature, request.TopP, request.Seed, request.Stop, request.N);
                return new RenderedRequest(tokens, generation);
            }
            case "/v1/chat/completions":
            {
                var request = body.Deserialize(GatewayJsonContext.Default.ChatCompletionRequest)
                    ?? throw ApiError.InvalidRequest("the request body is null", null, "invalid_value");
                var (tokens, endOfTurn) = ChatCompletionsEndpoint.Encode(model, modelId, ChatCompletionsEndpoint.Messages(request.Messages), fallbackTemplate);
                var (maxTokens, maxParam) = request.MaxCompletionTokens is { } newer ? (newer, "max_completion_tokens") : (request.MaxTokens, "max_tokens");
                var generation = SamplingParameters.Build("messages", tokens.Length, context, maxTokens, maxParam, null,
                    request.Temperature, request.TopP, request.Seed, request.Stop, request.N) with { StopTokens = endOfTurn };
                return new RenderedRequest(tokens, generation);
            }
            default:
                throw new ArgumentException($"endpoint '{endpoint}' is not /v1/completions or /v1/chat/completions", nameof(endpoint));
        }
    }

    /// <summary>OpenAI's finish_reason for how a run ended ("stop" or "length").</summary>
    public static string FinishReason(StopReason reason) => SamplingParameters.FinishReason(reason);
}
