using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// `edgenode serve` with no API key (loopback only), so its pages run with nothing to ask; stories260K in the
/// llama2 chat format so the chat page can chat with it.
/// </summary>
public sealed class KeylessServeFixture : IDisposable
{
    private readonly TempDirectory _home = TestPaths.NewTempDirectory("serve-pages-home");

    public KeylessServeFixture()
    {
        Server = ServeProcess.Start(
            ["--listen", "127.0.0.1:0", "--model", TestPaths.Model(ServeFixture.Model), "--chat-template", "llama2", "--threads", "1"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = _home.Path, ["EDGENODE_API_KEYS"] = null });
    }

    public ServeProcess Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        _home.Dispose();
    }
}

/// <summary>The dashboard and chat pages in headless Chromium against a real `edgenode serve`: what their scripts render.</summary>
public sealed partial class PagesTests(KeylessServeFixture serve) : IClassFixture<KeylessServeFixture>
{
    private static readonly string s_screenshot = Path.Combine(TestPaths.RepoRoot, "artifacts", "screenshots", "dashboard.png");

    [GeneratedRegex("<dd id=\"requests\">(\\d+)</dd>")]
    private static partial Regex RequestsCell();

    private HttpClient Client() => new() { BaseAddress = new Uri(serve.Server.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };

    private static async Task<JsonNode> PostAsync(HttpClient http, string path, JsonObject body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task DashboardRendersTheModelAndRequestCountFromTheEventStream()
    {
        using var http = Client();
        var before = await http.GetStringAsync("/v1/dashboard/events?limit=1");
        var requestsBefore = JsonNode.Parse(before["data: ".Length..].Trim())!["requests"]!.GetValue<long>();
        for (var i = 0; i < 2; i++)
            await PostAsync(http, "/v1/completions", new JsonObject { ["model"] = ServeFixture.Model, ["prompt"] = "Once upon a time", ["max_tokens"] = 8, ["temperature"] = 0 });

        // The page as served holds no numbers and no model: whatever the browser shows below, its script put there.
        var staticHtml = await http.GetStringAsync("/");
        Assert.DoesNotContain(ServeFixture.Model, staticHtml, StringComparison.Ordinal);
        Assert.DoesNotMatch(RequestsCell(), staticHtml);

        var dom = HeadlessChromium.DumpDom(serve.Server.BaseUrl + "/", virtualTimeMs: 3000);
        Assert.Contains($"<td>{ServeFixture.Model}</td>", dom, StringComparison.Ordinal);
        Assert.Contains("<td>loaded</td>", dom, StringComparison.Ordinal);
        Assert.Contains("no pool yet", dom, StringComparison.Ordinal);
        Assert.Contains("no sensor", dom, StringComparison.Ordinal);
        // The credits panel, filled by the script from the ledger: this node's id and its receipts (two at least, above).
        Assert.Matches(@"node-[0-9a-f]{16}: balance [0-9.]+ credits \(earned [0-9.]+, spent by its keys [0-9.]+\); [0-9]+ receipts from 1 pool member", dom);
        var requests = RequestsCell().Match(dom);
        Assert.True(requests.Success, $"the dashboard shows no request count: {dom}");
        Assert.True(long.Parse(requests.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= requestsBefore + 2,
            $"the dashboard counts {requests.Groups[1].Value} requests; at least {requestsBefore + 2} were served");
        Assert.Contains("class=\"live\"", dom, StringComparison.Ordinal);

        HeadlessChromium.Screenshot(serve.Server.BaseUrl + "/dashboard", virtualTimeMs: 3000, s_screenshot);
    }

    [Fact]
    public async Task BothPagesAreServedInTheOneHeadWithTheirOwnTitleNavAndScript()
    {
        using var http = Client();
        var dashboard = await http.GetStringAsync("/");
        var chat = await http.GetStringAsync("/chat");

        Assert.Contains("<title>EdgeNode dashboard</title>", dashboard, StringComparison.Ordinal);
        Assert.Contains("<title>EdgeNode chat</title>", chat, StringComparison.Ordinal);
        Assert.Contains("<nav><a href=\"/\" aria-current=\"page\">Dashboard</a> <a href=\"/chat\">Chat</a></nav>", dashboard, StringComparison.Ordinal);
        Assert.Contains("<nav><a href=\"/\">Dashboard</a> <a href=\"/chat\" aria-current=\"page\">Chat</a></nav>", chat, StringComparison.Ordinal);
        Assert.Contains("<main class=\"grid\">", dashboard, StringComparison.Ordinal);
        Assert.Contains("<main class=\"chat\">", chat, StringComparison.Ordinal);
        Assert.EndsWith("</main>\n<script src=\"/pages/node.js\"></script>\n<script src=\"/pages/dashboard.js\"></script>\n</body>\n</html>\n", dashboard, StringComparison.Ordinal);
        Assert.EndsWith("</main>\n<script src=\"/pages/node.js\"></script>\n<script src=\"/pages/chat.js\"></script>\n</body>\n</html>\n", chat, StringComparison.Ordinal);
        // No placeholder of the head is left, and the head is not a page of its own.
        Assert.DoesNotContain("{", dashboard + chat, StringComparison.Ordinal);
        using var head = await http.GetAsync("/pages/page.html");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task AFinishedRunIsCountedOnceOnTheDashboardAndInMetrics()
    {
        using var http = Client();
        async Task<(JsonNode Model, string Metrics)> ReadAsync()
        {
            var snapshot = JsonNode.Parse((await http.GetStringAsync("/v1/dashboard/events?limit=1"))["data: ".Length..].Trim())!;
            var model = snapshot["models"]!.AsArray().Single(m => m!["id"]!.GetValue<string>() == ServeFixture.Model)!;
            return (model, await http.GetStringAsync("/metrics"));
        }
        long Series(string metrics, string name) => long.Parse(Regex.Match(metrics, $"^{name}{{model=\"{ServeFixture.Model}\"}} (\\d+)$", RegexOptions.Multiline).Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);

        var (modelBefore, metricsBefore) = await ReadAsync();
        var answer = await PostAsync(http, "/v1/completions", new JsonObject { ["model"] = ServeFixture.Model, ["prompt"] = "Once upon a time", ["max_tokens"] = 8, ["temperature"] = 0 });
        var (modelAfter, metricsAfter) = await ReadAsync();

        var completionTokens = answer["usage"]!["completion_tokens"]!.GetValue<long>();
        var promptTokens = answer["usage"]!["prompt_tokens"]!.GetValue<long>();
        Assert.Equal(1, modelAfter["requests"]!.GetValue<long>() - modelBefore["requests"]!.GetValue<long>());
        Assert.Equal(completionTokens, modelAfter["tokens"]!.GetValue<long>() - modelBefore["tokens"]!.GetValue<long>());
        Assert.Equal(completionTokens, Series(metricsAfter, "edgenode_completion_tokens_total") - Series(metricsBefore, "edgenode_completion_tokens_total"));
        Assert.Equal(promptTokens, Series(metricsAfter, "edgenode_prompt_tokens_total") - Series(metricsBefore, "edgenode_prompt_tokens_total"));
    }

    [Fact]
    public void ChatPageStreamsTheGoldenContinuation()
    {
        var golden = GoldenCase.Load(ServeFixture.Model)[0];
        // The first words of the reference's greedy continuation (whole words, so a piece boundary cannot matter).
        var continuation = golden.Text[golden.Prompt.Length..];
        var firstWords = string.Join(' ', continuation.Split(' ').Take(8));
        var url = $"{serve.Server.BaseUrl}/chat?prompt={Uri.EscapeDataString(golden.Prompt)}&model={ServeFixture.Model}&temperature=0&max_tokens=24&mode=complete&autosend=1";

        var dom = HeadlessChromium.DumpDom(url, virtualTimeMs: 10000);

        Assert.Contains($"<option value=\"{ServeFixture.Model}\"", dom, StringComparison.Ordinal);
        Assert.Contains($"<div class=\"message assistant\">{WebUtility.HtmlEncode(firstWords).Replace("&#39;", "'", StringComparison.Ordinal)}", dom, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatPageShowsTheStreamedChatAnswer()
    {
        using var http = Client();
        const string prompt = "Tell me a story about a cat.";
        var whole = await PostAsync(http, "/v1/chat/completions", new JsonObject
        {
            ["model"] = ServeFixture.Model, ["temperature"] = 0, ["max_tokens"] = 16,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
        });
        var answer = whole["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(answer));
        var url = $"{serve.Server.BaseUrl}/chat?prompt={Uri.EscapeDataString(prompt)}&model={ServeFixture.Model}&temperature=0&max_tokens=16&autosend=1";

        var dom = HeadlessChromium.DumpDom(url, virtualTimeMs: 10000);

        Assert.Contains($"<div class=\"message user\">{prompt}</div>", dom, StringComparison.Ordinal);
        Assert.Contains($"<div class=\"message assistant\">{WebUtility.HtmlEncode(answer).Replace("&#39;", "'", StringComparison.Ordinal).Replace("&quot;", "\"", StringComparison.Ordinal)}</div>", dom, StringComparison.Ordinal);
    }
}

/// <summary>With API keys configured: the pages load without a key, but show nothing of the node until one is given.</summary>
[Collection(ServeCollection.Name)]
public sealed class PagesWithKeysTests(ServeFixture serve)
{
    [Fact]
    public async Task PagesLoadWithoutAKeyButTheEventStreamNeedsOne()
    {
        using var http = new HttpClient { BaseAddress = new Uri(serve.Server.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        foreach (var page in new[] { "/", "/dashboard", "/chat", "/pages/dashboard.js" })
        {
            using var response = await http.GetAsync(page);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var noKey = await http.GetAsync("/v1/dashboard/events?limit=1"))
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/dashboard/events?limit=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServeFixture.Key);
        using var withKey = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Contains(ServeFixture.Model, await withKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void DashboardAsksForTheKeyAndShowsTheNodeOnceGiven()
    {
        var withoutKey = HeadlessChromium.DumpDom(serve.Server.BaseUrl + "/", virtualTimeMs: 3000);
        Assert.Contains("<form id=\"key-form\">", withoutKey, StringComparison.Ordinal);
        Assert.Contains("API key", withoutKey, StringComparison.Ordinal);
        Assert.DoesNotContain($"<td>{ServeFixture.Model}</td>", withoutKey, StringComparison.Ordinal);

        // "#key=" stays in the browser: the fragment is never sent to the server.
        var withKey = HeadlessChromium.DumpDom($"{serve.Server.BaseUrl}/#key={ServeFixture.Key}", virtualTimeMs: 3000);
        Assert.Contains($"<td>{ServeFixture.Model}</td>", withKey, StringComparison.Ordinal);
        Assert.Contains("<form id=\"key-form\" hidden=\"\">", withKey, StringComparison.Ordinal);
    }
}
