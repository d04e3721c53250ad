using System.Text.Json;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;

namespace EdgeNode.Gateway.Api;

/// <summary>
/// The sampling and length fields both endpoints share, checked against OpenAI's ranges and this model's context,
/// and turned into the generator's options. OpenAI's defaults apply: temperature 1, top_p 1, no top-k.
/// </summary>
internal static class SamplingParameters
{
    public const int MaxStopSequences = 4;

    /// <param name="promptParam">"prompt" or "messages", named in a context error.</param>
    /// <param name="maxTokensParam">The field max_tokens came from, named in its error.</param>
    /// <param name="defaultMaxTokens">Null means "the rest of the context".</param>
    public static GenerationOptions Build(string promptParam, int promptTokens, int context, int? maxTokens, string maxTokensParam, int? defaultMaxTokens,
        float? temperature, float? topP, long? seed, JsonElement? stop, int? n)
    {
        if (n is { } count && count != 1)
            throw ApiError.InvalidRequest($"n={count} is not supported: this node returns one choice per request (n=1).", "n");
        if (temperature is { } t && (t < 0 || t > 2 || float.IsNaN(t)))
            throw ApiError.InvalidRequest($"{t} is out of range for 'temperature': it must be between 0 and 2.", "temperature", "invalid_value");
        if (topP is { } p && (p < 0 || p > 1 || float.IsNaN(p)))
            throw ApiError.InvalidRequest($"{p} is out of range for 'top_p': it must be between 0 and 1.", "top_p", "invalid_value");
        if (maxTokens is { } m && (m < 1 || m > context))
            throw ApiError.InvalidRequest($"{m} is out of range for '{maxTokensParam}': it must be between 1 and this model's context of {context} tokens.", maxTokensParam, "invalid_value");
        if (promptTokens > context)
            throw ApiError.ContextLengthExceeded(promptParam, context, promptTokens, null);
        if (maxTokens is { } requested && promptTokens + requested > context)
            throw ApiError.ContextLengthExceeded(promptParam, context, promptTokens, requested);

        var greedy = temperature == 0 || topP == 0;
        var sampling = greedy
            ? SamplingOptions.Greedy with { Seed = (ulong?)seed }
            : new SamplingOptions { Temperature = temperature ?? 1f, TopP = topP ?? 1f, TopK = 0, RepetitionPenalty = 1f, Seed = (ulong?)seed };
        return new GenerationOptions
        {
            MaxTokens = maxTokens ?? Math.Min(defaultMaxTokens ?? int.MaxValue, context - promptTokens),
            Sampling = sampling,
            StopTexts = StopTexts(stop),
            ContextLength = context,
        };
    }

    private static string[] StopTexts(JsonElement? stop)
    {
        if (stop is not { } value || value.ValueKind == JsonValueKind.Null)
            return [];
        if (value.ValueKind == JsonValueKind.String)
            return [value.GetString()!];
        if (value.ValueKind == JsonValueKind.Array && value.GetArrayLength() <= MaxStopSequences
            && value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            return [.. value.EnumerateArray().Select(e => e.GetString()!)];
        throw ApiError.InvalidRequest($"'stop' must be a string or an array of up to {MaxStopSequences} strings.", "stop", "invalid_value");
    }

    /// <summary>OpenAI's finish_reason for how generation ended.</summary>
    public static string FinishReason(StopReason reason) => reason switch
    {
        StopReason.EndOfText or StopReason.StopText => "stop",
        _ => "length",
    };
}
