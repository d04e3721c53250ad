using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace EdgeNode.Gateway.Tests;

/// <summary>Async jobs survive SIGKILL: queued and running jobs resume on restart and each completes exactly once.</summary>
public sealed class JobDurabilityTests(ITestOutputHelper output)
{
    private const int JobCount = 50;

    [Fact]
    public void FiftyJobsSurviveTwoSigkillsAndEachCompletesOnce()
    {
        using var home = TestPaths.NewTempDirectory("jobs-kill");
        var golden = GoldenCase.Load("stories260K")[0];
        var environment = new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = null };
        string[] args = ["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--threads", "1"];

        var server = ServeProcess.Start(args, environment);
        var ids = new List<string>();
        using (var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) })
        {
            for (var i = 0; i < JobCount; i++)
                ids.Add(Submit(http, i, golden)["id"]!.GetValue<string>());
        }
        Assert.Equal(JobCount, ids.Distinct().Count());

        // Killed twice mid-run, each time with jobs finished, one running and others still queued.
        foreach (var killAt in new[] { 10, 30 })
        {
            var done = WaitForCompleted(server, killAt, TimeSpan.FromMinutes(2));
            server.KillHard();
            output.WriteLine($"SIGKILL with {done} of {JobCount} jobs completed");
            Assert.True(done < JobCount, "every job finished before the kill: the test proves nothing; raise the jobs' length");
            server.Dispose();
            server = ServeProcess.Start(args, environment);
        }

        using (server)
        {
            WaitForCompleted(server, JobCount, TimeSpan.FromMinutes(3));
            using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
            var continuation = golden.Text[golden.Prompt.Length..];
            for (var i = 0; i < JobCount; i++)
            {
                var job = Get(http, $"/v1/jobs/{ids[i]}");
                Assert.Equal("completed", job["status"]!.GetValue<string>());
                Assert.Equal($"story-{i}", job["custom_id"]!.GetValue<string>());
                Assert.Equal(200, job["response"]!["status_code"]!.GetValue<int>());
                Assert.Equal(continuation, job["response"]!["body"]!["choices"]![0]!["text"]!.GetValue<string>());
            }
            // Submitting again with a used Idempotency-Key returns the same job, after both restarts.
            Assert.Equal(ids[7], Submit(http, 7, golden)["id"]!.GetValue<string>());
            Assert.Equal(JobCount, Get(http, "/v1/jobs?limit=1000")["data"]!.AsArray().Count);
        }

        // Exactly once: each job's outcome was recorded one time, however often its run started.
        using var db = new SqliteConnection($"Data Source={Path.Combine(home.Path, "jobs.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var query = db.CreateCommand();
        query.CommandText = "SELECT id, completions, attempts FROM jobs";
        using var rows = query.ExecuteReader();
        var restarted = 0;
        var seen = 0;
        while (rows.Read())
        {
            seen++;
            Assert.Equal(1, rows.GetInt32(1));
            Assert.InRange(rows.GetInt32(2), 1, 3);
            restarted += rows.GetInt32(2) > 1 ? 1 : 0;
        }
        Assert.Equal(JobCount, seen);
        output.WriteLine($"{restarted} jobs were cut off by a kill and run again");
    }

    private static JsonObject Submit(HttpClient http, int index, GoldenCase golden)
    {
        var line = new JsonObject
        {
            ["custom_id"] = $"story-{index}",
            ["url"] = "/v1/completions",
            ["body"] = new JsonObject { ["model"] = "stories260K", ["prompt"] = golden.Prompt, ["max_tokens"] = golden.MaxTokens, ["temperature"] = 0 },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(line.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", $"story-{index}");
        using var response = http.Send(request);
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    private static JsonObject Get(HttpClient http, string path)
    {
        using var response = http.GetAsync(path).GetAwaiter().GetResult();
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!.AsObject();
    }

    /// <summary>Polls the job list until at least <paramref name="count"/> jobs are completed; returns how many are.</summary>
    private static int WaitForCompleted(ServeProcess server, int count, TimeSpan limit)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var jobs = Get(http, "/v1/jobs?limit=1000")["data"]!.AsArray();
            var completed = jobs.Count(j => j!["status"]!.GetValue<string>() == "completed");
            if (completed >= count)
                return completed;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"only {completed} of {count} jobs completed within {limit.TotalSeconds:F0} s: {server.Stderr}");
            // At most 20 polls a second, the default per-address refill rate, so polling is never limited; no slower,
            // or a kill meant to land mid-run can come after the last job finished.
            Thread.Sleep(50);
        }
    }
}
