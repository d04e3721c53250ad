using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Api;

/// <summary>
/// Reads a JSON request body into its type, turning every way it can be wrong into the OpenAI error a client
/// expects. The body is read whole first (Kestrel bounds it), so broken JSON and a field of the wrong type can be
/// told apart and named.
/// </summary>
internal static class RequestBody
{
    private static readonly Dictionary<string, string> s_expected = new(StringComparer.Ordinal)
    {
        ["model"] = "a string", ["max_tokens"] = "an integer", ["max_completion_tokens"] = "an integer", ["n"] = "an integer",
        ["seed"] = "an integer", ["temperature"] = "a number", ["top_p"] = "a number", ["stream"] = "a boolean",
        ["stream_options"] = "an object", ["messages"] = "an array of messages",
    };

    public static async Task<T> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, long limit)
        where T : class
    {
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw ApiError.BodyTooLarge(limit);
        }
        return Parse(body, type);
    }

    /// <summary>Parses a body already in hand (an async job's stored request) with the same errors as a live one.</summary>
    public static T Parse<T>(byte[] body, JsonTypeInfo<T> type)
        where T : class
    {
        CheckSyntax(body);
        try
        {
            return JsonSerializer.Deserialize(body, type) ?? throw ApiError.InvalidJson("the body is null, not a JSON object");
        }
        catch (JsonException e)
        {
            // The JSON is well formed, so a value had a type the field does not take; e.Path names the field.
            var param = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            if (param is null)
                throw ApiError.InvalidJson("the body must be a JSON object");
            var field = param.Split('.', '[')[0];
            var expected = s_expected.TryGetValue(field, out var name) ? $": expected {name}" : "";
            throw ApiError.InvalidRequest($"Invalid type for '{param}'{expected}.", param, "invalid_type");
        }
    }

    private static void CheckSyntax(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
            throw ApiError.InvalidJson("the body is empty");
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
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
    }
}
