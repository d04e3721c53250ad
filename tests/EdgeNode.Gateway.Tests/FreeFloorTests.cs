using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>The free daily floor: a key past it with no credits gets 402 insufficient_quota; another key keeps being served.</summary>
public sealed class FreeFloorTests
{
    private const string Spender = "sk-edgenode-floor-spender";
    private const string Other = "sk-edgenode-floor-other";

    [Fact]
    public async Task AKeyOverItsFloorWithNoCreditsGets402AndTheOfficialClientSeesTheSameError()
    {
        using var home = TestPaths.NewTempDirectory("serve-floor");
        // A floor of 30 credits at 1 credit a token: one chat of ~40 tokens uses it up.
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--chat-template", "llama2", "--daily-floor", "30"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = $"{Spender},{Other}" });
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        var chat = new JsonObject
        {
            ["model"] = "stories260K", ["max_tokens"] = 30, ["temperature"] = 0,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Tell me a story." }),
        };
        HttpResponseMessage Send(string key, string path, JsonObject? body)
        {
            var request = new HttpRequestMessage(body is null ? HttpMethod.Get : HttpMethod.Post, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (body is not null)
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            return http.Send(request);
        }

        using (var first = Send(Spender, "/v1/chat/completions", chat))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);       // within the floor when it started

        using (var refused = Send(Spender, "/v1/chat/completions", chat))
        {
            Assert.Equal(HttpStatusCode.PaymentRequired, refused.StatusCode);
            Assert.Equal("false", Assert.Single(refused.Headers.GetValues("x-should-retry")));
            var error = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("insufficient_quota", error["type"]!.GetValue<string>());
            Assert.Equal("insufficient_credits", error["code"]!.GetValue<string>());
            Assert.Contains("free floor of 30 credits", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("00:00 UTC", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        // A job from the same key is refused the same way, before it is stored.
        using (var job = Send(Spender, "/v1/jobs", new JsonObject { ["url"] = "/v1/chat/completions", ["body"] = chat.DeepClone() }))
            Assert.Equal(HttpStatusCode.PaymentRequired, job.StatusCode);

        var official = OpenAiClient.Run(server, Spender, OpenAiClient.Chat(chat))[0]!;
        Assert.False(official["ok"]!.GetValue<bool>());
        Assert.Equal(402, official["status"]!.GetValue<int>());
        Assert.Equal("insufficient_credits", official["error"]!["code"]!.GetValue<string>());

        // The other key has its own floor.
        using (var other = Send(Other, "/v1/chat/completions", chat))
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        using var credits = Send(Spender, "/v1/credits", null);
        var view = JsonNode.Parse(await credits.Content.ReadAsStringAsync())!["key"]!;
        Assert.Equal(0m, view["floor_left_today"]!.GetValue<decimal>());
        Assert.Equal(30m, view["daily_floor"]!.GetValue<decimal>());
        var spent = view["recent"]![0]!;
        var tokens = spent["tokens_in"]!.GetValue<int>() + spent["tokens_out"]!.GetValue<int>();
        // Arithmetic: the chat's tokens at 1 credit each, 30 of them from the floor, the rest from the key's wallet.
        Assert.True(tokens > 30, $"the chat used {tokens} tokens; the test needs more than the floor");
        Assert.Equal(30m, spent["floor_used"]!.GetValue<decimal>());
        Assert.Equal(tokens - 30, spent["spent"]!.GetValue<decimal>());
        Assert.Equal(-(tokens - 30), view["balance"]!.GetValue<decimal>());

        // `edgenode credits` reads the same ledger (the server holds it open; WAL lets both in).
        var cli = AgentBinary.Run(["credits", "--json"], new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path }, TimeSpan.FromSeconds(60));
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        var accounts = JsonNode.Parse(cli.Stdout)!.AsArray();
        var spender = accounts.Single(a => a!["account"]!.GetValue<string>() == CreditsApiTests.KeyId(Spender))!;
        Assert.Equal(view["balance"]!.GetValue<decimal>(), spender["balance"]!.GetValue<decimal>());
        Assert.Equal(30m, spender["daily_floor"]!.GetValue<decimal>());       // the rates the node recorded
        var node = accounts.Single(a => a!["kind"]!.GetValue<string>() == "node")!;
        Assert.True(node["earned"]!.GetValue<decimal>() > 0);
    }
}
