using System.Buffers.Text;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// Receipts, the mode a request was served in, and GET /v1/credits on a running server: each answer carries a receipt
/// signed by the node, the ledger refuses it a second time and refuses an altered one, and the official client sees
/// usage.edgenode_mode.
/// </summary>
[Collection(ServeCollection.Name)]
public sealed class CreditsApiTests(ServeFixture serve) : IDisposable
{
    private readonly HttpClient _http = new()
    {
        BaseAddress = new Uri(serve.Server.BaseUrl),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", ServeFixture.Key) },
    };

    public void Dispose() => _http.Dispose();

    internal static string KeyId(string key) => "key-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    internal static JsonObject ReceiptPayload(string receipt) =>
        JsonNode.Parse(Base64Url.DecodeFromChars(receipt.AsSpan(0, receipt.IndexOf('.', StringComparison.Ordinal))))!.AsObject();

    private (HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response) Post(string path, JsonObject body)
    {
        var response = _http.Send(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") });
        return (response.StatusCode, JsonNode.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult())!.AsObject(), response);
    }

    private static JsonObject Chat(int maxTokens, bool stream = false) => new()
    {
        ["model"] = ServeFixture.Model, ["max_tokens"] = maxTokens, ["temperature"] = 0, ["stream"] = stream,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Tell me about a dog." }),
    };

    [Fact]
    public async Task AnAnswerCarriesItsModeAndASignedReceiptThatCountsOnce()
    {
        var (status, body, response) = Post("/v1/chat/completions", Chat(20));
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("local", Assert.Single(response.Headers.GetValues("EdgeNode-Mode")));
            Assert.Equal("local", body["usage"]!["edgenode_mode"]!.GetValue<string>());
            var receipt = Assert.Single(response.Headers.GetValues("EdgeNode-Receipt"));
            Assert.Equal(receipt, body["edgenode_receipt"]!.GetValue<string>());

            var payload = ReceiptPayload(receipt);
            Assert.Equal(body["id"]!.GetValue<string>(), payload["request_id"]!.GetValue<string>());
            Assert.Equal(ServeFixture.Model, payload["model"]!.GetValue<string>());
            Assert.Equal(KeyId(ServeFixture.Key), payload["key_id"]!.GetValue<string>());
            Assert.Equal(body["usage"]!["prompt_tokens"]!.GetValue<int>(), payload["tokens_in"]!.GetValue<int>());
            Assert.Equal(body["usage"]!["completion_tokens"]!.GetValue<int>(), payload["tokens_out"]!.GetValue<int>());
            Assert.Equal(5, payload["layers"]!.GetValue<int>());                  // stories260K has 5 layers, all run here
            Assert.Equal("fp32", payload["precision"]!.GetValue<string>());
            Assert.Equal("local", payload["mode"]!.GetValue<string>());
            Assert.DoesNotContain(ServeFixture.Key, Encoding.UTF8.GetString(Base64Url.DecodeFromChars(receipt.AsSpan(0, receipt.IndexOf('.', StringComparison.Ordinal)))), StringComparison.Ordinal);

            // The ledger already settled it: handed in again, it is a replay.
            var (replayStatus, replay, r1) = Post("/v1/credits/receipts", new JsonObject { ["receipt"] = receipt });
            r1.Dispose();
            Assert.Equal(HttpStatusCode.Conflict, replayStatus);
            Assert.Equal("receipt_replayed", replay["error"]!["code"]!.GetValue<string>());
            Assert.Contains("already accepted", replay["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

            // Altered (more tokens out, another request id), the node's signature kept: forged.
            payload["tokens_out"] = 100_000;
            payload["request_id"] = "chatcmpl-inflated";
            var forgedText = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString())) + receipt[receipt.IndexOf('.', StringComparison.Ordinal)..];
            var (forgedStatus, forged, r2) = Post("/v1/credits/receipts", new JsonObject { ["receipt"] = forgedText });
            r2.Dispose();
            Assert.Equal(HttpStatusCode.Forbidden, forgedStatus);
            Assert.Equal("receipt_forged", forged["error"]!["code"]!.GetValue<string>());

            // GET /v1/credits lists it among the caller's receipts, and the node earned for it (the key is not its own).
            using var credits = await _http.GetAsync("/v1/credits");
            var view = JsonNode.Parse(await credits.Content.ReadAsStringAsync())!;
            Assert.Equal(KeyId(ServeFixture.Key), view["key"]!["account"]!.GetValue<string>());
            Assert.Contains(view["key"]!["recent"]!.AsArray(), e => e!["request_id"]!.GetValue<string>() == body["id"]!.GetValue<string>());
            Assert.Equal(payload["node_id"]!.GetValue<string>(), view["node"]!["account"]!.GetValue<string>());
            Assert.True(view["node"]!["earned"]!.GetValue<decimal>() > 0);
            Assert.True(view["key"]!["floor_left_today"]!.GetValue<decimal>() < view["key"]!["daily_floor"]!.GetValue<decimal>());
        }
    }

    [Fact]
    public async Task AStreamEndsWithItsReceiptAndItsUsageNamesTheMode()
    {
        var request = Chat(12, stream: true);
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        using var response = _http.Send(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") });
        Assert.Equal("local", Assert.Single(response.Headers.GetValues("EdgeNode-Mode")));
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..]).Where(d => d != "[DONE]").Select(d => JsonNode.Parse(d)!).ToList();
        var last = events.Single(e => e["choices"]!.AsArray().Count > 0 && e["choices"]![0]!["finish_reason"] is not null);
        var receipt = ReceiptPayload(last["edgenode_receipt"]!.GetValue<string>());
        Assert.Equal(last["id"]!.GetValue<string>(), receipt["request_id"]!.GetValue<string>());
        var usage = events[^1]["usage"]!;
        Assert.Equal("local", usage["edgenode_mode"]!.GetValue<string>());
        Assert.Equal(usage["completion_tokens"]!.GetValue<int>(), receipt["tokens_out"]!.GetValue<int>());
    }

    [Fact]
    public void TheOfficialClientPassesTheModeThroughInUsage()
    {
        var results = OpenAiClient.Run(serve.Server, ServeFixture.Key, OpenAiClient.Chat(Chat(8)), OpenAiClient.Completion(new JsonObject
        {
            ["model"] = ServeFixture.Model, ["prompt"] = "Once upon a time", ["max_tokens"] = 8, ["temperature"] = 0,
        }));
        foreach (var result in results)
        {
            Assert.True(result!["ok"]!.GetValue<bool>(), result.ToJsonString());
            Assert.Equal("local", result["response"]!["usage"]!["edgenode_mode"]!.GetValue<string>());
            Assert.NotNull(result["response"]!["edgenode_receipt"]);
        }
    }

    [Fact]
    public async Task AJobIsServedAsyncAndItsReceiptIsNamedAfterTheJob()
    {
        var (status, job, r) = Post("/v1/jobs", new JsonObject { ["url"] = "/v1/chat/completions", ["body"] = Chat(10) });
        r.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        var id = job["id"]!.GetValue<string>();
        JsonNode? finished = null;
        for (var i = 0; i < 200 && finished is null; i++)
        {
            using var poll = await _http.GetAsync($"/v1/jobs/{id}");
            var view = JsonNode.Parse(await poll.Content.ReadAsStringAsync())!;
            if (view["status"]!.GetValue<string>() == "completed")
                finished = view;
            else
                Thread.Sleep(150);
        }
        Assert.NotNull(finished);
        var answer = finished!["response"]!["body"]!;
        Assert.Equal("async", answer["usage"]!["edgenode_mode"]!.GetValue<string>());
        var receipt = ReceiptPayload(answer["edgenode_receipt"]!.GetValue<string>());
        Assert.Equal(id, receipt["request_id"]!.GetValue<string>());
        Assert.Equal(KeyId(ServeFixture.Key), receipt["key_id"]!.GetValue<string>());
        Assert.Equal("async", receipt["mode"]!.GetValue<string>());
    }
}
