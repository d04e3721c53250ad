using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>GET /metrics in Prometheus' text format: the counters move by exactly what the requests did.</summary>
public sealed class MetricsTests
{
    private const string Key = "sk-edgenode-metrics";

    private static HttpResponseMessage Send(HttpClient http, HttpMethod method, string url, string? json = null, string key = Key)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return http.Send(request);
    }

    /// <summary>Series name with labels as written (e.g. edgenode_jobs{status="queued"}) to its value.</summary>
    private static Dictionary<string, double> Scrape(HttpClient http, string baseUrl)
    {
        using var response = Send(http, HttpMethod.Get, baseUrl + "/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(@"^# (HELP|TYPE) [a-z_]+ .+$", line);
                continue;
            }
            var space = line.LastIndexOf(' ');
            samples.Add(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }
        return samples;
    }

    private static string Text(HttpResponseMessage response) => response.Content.ReadAsStringAsync().GetAwaiter().GetResult();

    private static double Delta(Dictionary<string, double> before, Dictionary<string, double> after, string series) =>
        after.GetValueOrDefault(series) - before.GetValueOrDefault(series);

    [Fact]
    public void CountersMoveByWhatTheRequestsDid()
    {
        using var home = TestPaths.NewTempDirectory("serve-metrics");
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--key-rpm", "60", "--key-burst", "7"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = Key });
        using var http = new HttpClient();
        var before = Scrape(http, server.BaseUrl);

        // Two completions; the usage each reports is what the token counters must add up to.
        long prompt = 0, completion = 0;
        for (var i = 0; i < 2; i++)
        {
            using var answer = Send(http, HttpMethod.Post, server.ApiBase + "/completions",
                """{"model":"stories260K","prompt":"Once upon a time","max_tokens":5,"temperature":0}""");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            using var body = System.Text.Json.JsonDocument.Parse(Text(answer));
            prompt += body.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt64();
            completion += body.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt64();
        }
        using (var unknown = Send(http, HttpMethod.Post, server.ApiBase + "/completions", """{"model":"nope","prompt":"x"}"""))
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using (var wrongKey = Send(http, HttpMethod.Get, server.ApiBase + "/models", key: "sk-wrong"))
            Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        // A made-up method is one more series at most ("other"), however many different ones clients send.
        using (var brew = Send(http, new HttpMethod("BREW"), server.BaseUrl + "/pot"))
            Assert.Equal(HttpStatusCode.NotFound, brew.StatusCode);
        using (var job = Send(http, HttpMethod.Post, server.ApiBase + "/jobs",
            """{"url":"/v1/completions","body":{"model":"stories260K","prompt":"Once","max_tokens":2,"temperature":0}}"""))
            Assert.True(job.IsSuccessStatusCode, Text(job));
        // 7 tokens in the burst: 2 completions, two 404s and the job used 5 (a wrong key is refused before its
        // bucket); three more /v1/models leave the bucket with none, so one is refused.
        var limited = 0;
        for (var i = 0; i < 3; i++)
        {
            using var models = Send(http, HttpMethod.Get, server.ApiBase + "/models");
            limited += models.StatusCode == HttpStatusCode.TooManyRequests ? 1 : 0;
        }
        Assert.Equal(1, limited);
        // The job finishes on its own: wait (bounded) for it before the last scrape.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Dictionary<string, double> after;
        do
        {
            Thread.Sleep(200);
            after = Scrape(http, server.BaseUrl);
        }
        while (after.GetValueOrDefault("edgenode_jobs{status=\"completed\"}") < 1 && DateTime.UtcNow < deadline);

        Assert.Equal(2, Delta(before, after, "edgenode_http_requests_total{method=\"POST\",route=\"/v1/completions\",status=\"200\"}"));
        Assert.Equal(1, Delta(before, after, "edgenode_http_requests_total{method=\"POST\",route=\"/v1/completions\",status=\"404\"}"));
        Assert.Equal(1, Delta(before, after, "edgenode_http_requests_total{method=\"GET\",route=\"/v1/models\",status=\"401\"}"));
        Assert.Equal(2, Delta(before, after, "edgenode_http_requests_total{method=\"GET\",route=\"/v1/models\",status=\"200\"}"));
        Assert.Equal(1, Delta(before, after, "edgenode_http_requests_total{method=\"GET\",route=\"/v1/models\",status=\"429\"}"));
        // Scrapes count too (each once answered, so the last sees the ones before it) and are never rate limited.
        Assert.True(after["edgenode_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"] >= 1);
        Assert.False(after.ContainsKey("edgenode_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"429\"}"));
        Assert.Equal(1, Delta(before, after, "edgenode_http_requests_total{method=\"other\",route=\"other\",status=\"404\"}"));
        Assert.Equal(1, Delta(before, after, "edgenode_rate_limited_total"));
        Assert.Equal(1, after["edgenode_jobs{status=\"completed\"}"]);
        Assert.Equal(0, after["edgenode_jobs{status=\"queued\"}"]);
        // The job's run is a generation too: its tokens add to the two completions'.
        Assert.InRange(Delta(before, after, "edgenode_completion_tokens_total{model=\"stories260K\"}") - completion, 1, 2);
        Assert.True(Delta(before, after, "edgenode_prompt_tokens_total{model=\"stories260K\"}") > prompt, $"{Delta(before, after, "edgenode_prompt_tokens_total{model=\"stories260K\"}")} vs {prompt}");
        Assert.Equal(0, after["edgenode_queue_depth{model=\"stories260K\"}"]);
        Assert.InRange(after["process_resident_memory_bytes"], 1 << 20, 1L << 36);
    }
}
