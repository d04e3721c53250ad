using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace EdgeNode.Gateway.Tests;

/// <summary>/v1/jobs on a running server: a job's result is what the endpoint answers directly; cancel; list; errors.</summary>
[Collection(ServeCollection.Name)]
public sealed class JobsApiTests(ServeFixture serve) : IDisposable
{
    private readonly HttpClient _http = new()
    {
        BaseAddress = new Uri(serve.Server.BaseUrl),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", ServeFixture.Key) },
    };

    public void Dispose() => _http.Dispose();

    private (HttpStatusCode Status, JsonObject Body) Send(HttpMethod method, string path, JsonObject? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = _http.Send(request);
        return (response.StatusCode, JsonNode.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult())!.AsObject());
    }

    private JsonObject WaitFinished(string id)
    {
        for (var i = 0; i < 400; i++)
        {
            var (_, job) = Send(HttpMethod.Get, $"/v1/jobs/{id}");
            if (job["status"]!.GetValue<string>() is "completed" or "failed" or "cancelled")
                return job;
            Thread.Sleep(150);   // under the default per-key rate limit (10/s), which the other tests share
        }
        throw new TimeoutException($"job {id} did not finish within a minute");
    }

    [Fact]
    public void AChatJobAnswersWhatTheEndpointAnswersDirectly()
    {
        var body = new JsonObject
        {
            ["model"] = ServeFixture.Model, ["max_tokens"] = 24, ["temperature"] = 0,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Tell me about a dog." }),
        };
        var (directStatus, direct) = Send(HttpMethod.Post, "/v1/chat/completions", body.DeepClone().AsObject());
        Assert.Equal(HttpStatusCode.OK, directStatus);
        var (status, submitted) = Send(HttpMethod.Post, "/v1/jobs", new JsonObject { ["custom_id"] = "dog", ["url"] = "/v1/chat/completions", ["body"] = body });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("job", submitted["object"]!.GetValue<string>());
        var job = WaitFinished(submitted["id"]!.GetValue<string>());
        Assert.Equal("completed", job["status"]!.GetValue<string>());
        Assert.Equal(1.0, job["progress"]!["fraction"]!.GetValue<double>());
        var answer = job["response"]!["body"]!;
        Assert.Equal("chat.completion", answer["object"]!.GetValue<string>());
        Assert.Equal(direct["choices"]![0]!["message"]!["content"]!.GetValue<string>(), answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        foreach (var count in new[] { "prompt_tokens", "completion_tokens", "total_tokens" })
            Assert.Equal(direct["usage"]![count]!.GetValue<int>(), answer["usage"]![count]!.GetValue<int>());
        // The same answer, served in another mode.
        Assert.Equal("local", direct["usage"]!["edgenode_mode"]!.GetValue<string>());
        Assert.Equal("async", answer["usage"]!["edgenode_mode"]!.GetValue<string>());
    }

    [Fact]
    public void AJobWithABadBodyFailsWithTheEndpointsError()
    {
        var (_, submitted) = Send(HttpMethod.Post, "/v1/jobs", new JsonObject
        {
            ["url"] = "/v1/completions", ["body"] = new JsonObject { ["model"] = ServeFixture.Model, ["prompt"] = "Hi", ["max_tokens"] = 0 },
        });
        var job = WaitFinished(submitted["id"]!.GetValue<string>());
        Assert.Equal("failed", job["status"]!.GetValue<string>());
        Assert.Equal(400, job["response"]!["status_code"]!.GetValue<int>());
        Assert.Equal("max_tokens", job["response"]!["body"]!["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public void CancelStopsAQueuedJobAndARunningOne()
    {
        JsonObject Long() => new()
        {
            ["url"] = "/v1/completions",
            ["body"] = new JsonObject { ["model"] = ServeFixture.Model, ["prompt"] = "Once upon a time", ["max_tokens"] = 500, ["temperature"] = 1, ["stop"] = "never-appears" },
        };
        var ids = Enumerable.Range(0, 6).Select(_ => Send(HttpMethod.Post, "/v1/jobs", Long()).Body["id"]!.GetValue<string>()).ToList();

        // The last one waits behind five others: cancelled at once, it never runs.
        var (status, queued) = Send(HttpMethod.Post, $"/v1/jobs/{ids[^1]}/cancel");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("cancelled", queued["status"]!.GetValue<string>());
        Assert.Equal(0, queued["attempts"]!.GetValue<int>());

        // A running one stops at its next token. A run can end between seeing it running and cancelling it; the
        // cancel then says so, and the next running job is tried.
        var cancelledRunning = false;
        for (var tries = 0; tries < 2000 && !cancelledRunning; tries++)
        {
            var running = ids.Take(5).FirstOrDefault(id => Send(HttpMethod.Get, $"/v1/jobs/{id}").Body["status"]!.GetValue<string>() == "in_progress");
            if (running is null)
                continue;
            var (cancelStatus, answer) = Send(HttpMethod.Post, $"/v1/jobs/{running}/cancel");
            if (cancelStatus == HttpStatusCode.BadRequest)
            {
                Assert.Equal("job_finished", answer["error"]!["code"]!.GetValue<string>());
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, cancelStatus);
            Assert.Equal("cancelled", answer["status"]!.GetValue<string>());
            Assert.Equal(1, answer["attempts"]!.GetValue<int>());
            Assert.Null(answer["response"]);
            cancelledRunning = true;
        }
        Assert.True(cancelledRunning, "no job was seen running to cancel");
        foreach (var id in ids)
            WaitFinished(id);
    }

    [Fact]
    public void BadSubmissionsAndUnknownJobsGetOpenAiErrors()
    {
        var (status, error) = Send(HttpMethod.Post, "/v1/jobs", new JsonObject { ["url"] = "/v1/embeddings", ["body"] = new JsonObject() });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("url", error["error"]!["param"]!.GetValue<string>());
        (status, error) = Send(HttpMethod.Post, "/v1/jobs", new JsonObject { ["url"] = "/v1/completions", ["body"] = new JsonObject { ["model"] = "nope", ["prompt"] = "x" } });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", error["error"]!["code"]!.GetValue<string>());
        (status, error) = Send(HttpMethod.Get, "/v1/jobs/job-doesnotexist");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("job_not_found", error["error"]!["code"]!.GetValue<string>());
        (status, error) = Send(HttpMethod.Get, "/v1/jobs?limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("limit", error["error"]!["param"]!.GetValue<string>());
    }
}
