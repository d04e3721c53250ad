using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace EdgeNode.Gateway.Api;

/// <summary>
/// The streaming answer: "data: {json}\n\n" events written straight into the response's pipe, ending with
/// "data: [DONE]". One JSON writer is reused for every chunk, so a streamed token costs no buffers of its own.
/// </summary>
internal sealed class ServerSentEvents : IDisposable
{
    private static readonly byte[] s_data = "data: "u8.ToArray();
    private static readonly byte[] s_end = "\n\n"u8.ToArray();
    private static readonly byte[] s_done = "data: [DONE]\n\n"u8.ToArray();

    private readonly HttpResponse _response;
    private readonly Utf8JsonWriter _json;

    public ServerSentEvents(HttpResponse response)
    {
        _response = response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        // Proxies that buffer (nginx) would otherwise hold the tokens back until the end.
        response.Headers["X-Accel-Buffering"] = "no";
        _json = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { SkipValidation = true });
    }

    /// <summary>Starts an event; the caller writes one JSON object into the returned writer, then calls <see cref="EndAsync"/>.</summary>
    public Utf8JsonWriter Begin()
    {
        _response.BodyWriter.Write(s_data);
        _json.Reset(_response.BodyWriter);
        return _json;
    }

    /// <summary>
    /// Starts a streamed chunk as OpenAI shapes every one: {"id", "object", "created", "model", "choices": [ — the caller
    /// writes the choices, closes the array and the object (adding "usage" between them if it has one), then calls
    /// <see cref="EndAsync"/>.
    /// </summary>
    public Utf8JsonWriter BeginChunk(string id, string objectName, long created, string model)
    {
        var json = Begin();
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", objectName);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteStartArray("choices");
        return json;
    }

    public async ValueTask EndAsync()
    {
        _json.Flush();
        _response.BodyWriter.Write(s_end);
        await _response.BodyWriter.FlushAsync(_response.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    public async ValueTask DoneAsync()
    {
        _response.BodyWriter.Write(s_done);
        await _response.BodyWriter.FlushAsync(_response.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>A failure after the stream began: OpenAI's clients read an event with an "error" member as the error.</summary>
    public async ValueTask ErrorAsync(ApiError error)
    {
        var json = Begin();
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", error.Message);
        json.WriteString("type", error.Type);
        WriteNullable(json, "param", error.Param);
        WriteNullable(json, "code", error.Code);
        json.WriteEndObject();
        json.WriteEndObject();
        await EndAsync().ConfigureAwait(false);
    }

    public static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
            json.WriteNull(name);
        else
            json.WriteString(name, value);
    }

    public void Dispose() => _json.Dispose();
}
