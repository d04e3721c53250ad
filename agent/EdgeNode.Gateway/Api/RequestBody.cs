using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Api;

/// <summary>Reads a JSON request body into its type, turning every way it can be wrong into the OpenAI error a client expects.</summary>
internal static class RequestBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, long limit)
        where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, type, request.HttpContext.RequestAborted).ConfigureAwait(false);
            return body ?? throw ApiError.InvalidJson("the body is null, not a JSON object");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw ApiError.BodyTooLarge(limit);
        }
        catch (JsonException e)
        {
            // e.Path names the field ("$.max_tokens") when the JSON is well formed but a value has the wrong type.
            var param = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            if (param is not null && e.Message.Contains("could not be converted", StringComparison.Ordinal))
                throw ApiError.InvalidRequest($"Invalid type for '{param}': {FirstSentence(e.Message)}", param, "invalid_type");
            throw ApiError.InvalidJson(FirstSentence(e.Message));
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message.TrimEnd('.');
    }
}
