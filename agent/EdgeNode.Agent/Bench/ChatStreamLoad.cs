using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// Many streaming chats at once against an OpenAI-compatible server: each stream's time to first token, its
/// tokens and its own rate, and any error (an HTTP status, an error event, a stream cut short).
/// </summary>
public static class ChatStreamLoad
{
    public sealed record StreamResult(bool Ok, string? Error, double TtftMs, double TotalMs, int CompletionTokens, string? Mode);

    public static async Task<List<StreamResult>> RunAsync(string apiBase, string? key, string model, int streams, int maxTokens, TimeSpan timeout)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = streams + 8, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { Timeout = timeout };
        var tasks = Enumerable.Range(0, streams).Select(i => Task.Run(() => OneAsync(http, apiBase, key, model, maxTokens, i))).ToArray();
        return [.. await Task.WhenAll(tasks).ConfigureAwait(false)];
    }

    private static async Task<StreamResult> OneAsync(HttpClient http, string apiBase, string? key, string model, int maxTokens, int index)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // Prompts differ per stream so no layer of caching could make them look faster than they are.
            var body = $$"""{"model":{{JsonSerializer.Serialize(model, LoadClientJsonContext.Default.String)}},"stream":true,"stream_options":{"include_usage":true},"max_tokens":{{maxTokens}},"temperature":0,"messages":[{"role":"user","content":"Tell me story number {{index}} about a cat."}]}""";
            using var request = new HttpRequestMessage(HttpMethod.Post, apiBase + "/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (key is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            var mode = response.Headers.TryGetValues("EdgeNode-Mode", out var modes) ? modes.FirstOrDefault() : null;
            if (!response.IsSuccessStatusCode)
                return new StreamResult(false, $"HTTP {(int)response.StatusCode}: {Truncate(await response.Content.ReadAsStringAsync().ConfigureAwait(false))}", 0, clock.Elapsed.TotalMilliseconds, 0, mode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync().ConfigureAwait(false));
            double ttft = -1;
            int usageTokens = -1, pieces = 0;
            var done = false;
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    continue;
                var data = line.AsMemory(6);
                if (data.Span.SequenceEqual("[DONE]"))
                {
                    done = true;
                    break;
                }
                using var chunk = JsonDocument.Parse(data);
                var root = chunk.RootElement;
                if (root.TryGetProperty("error", out var error))
                    return new StreamResult(false, "error event: " + Truncate(error.GetRawText()), ttft, clock.Elapsed.TotalMilliseconds, pieces, mode);
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                    usageTokens = usage.GetProperty("completion_tokens").GetInt32();
                if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                    && choices[0].GetProperty("delta").TryGetProperty("content", out var content) && content.GetString() is { Length: > 0 })
                {
                    if (ttft < 0)
                        ttft = clock.Elapsed.TotalMilliseconds;
                    pieces++;
                }
            }
            if (!done)
                return new StreamResult(false, "the stream ended without [DONE]", ttft, clock.Elapsed.TotalMilliseconds, pieces, mode);
            return new StreamResult(true, null, ttft < 0 ? clock.Elapsed.TotalMilliseconds : ttft, clock.Elapsed.TotalMilliseconds, usageTokens >= 0 ? usageTokens : pieces, mode);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException or JsonException)
        {
            return new StreamResult(false, $"{e.GetType().Name}: {e.Message}", 0, clock.Elapsed.TotalMilliseconds, 0, null);
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class LoadClientJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
