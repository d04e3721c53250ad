using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// Under load a contributor's request goes ahead of the queue: with one model busy and a queue of other keys' chats,
/// a contributor's chat (its key linked to this node with `edgenode credits link`) starts before every one still waiting.
/// A stream's headers leave when its run starts, so the order they arrive in is the order the runs started.
/// </summary>
public sealed class ContributorPriorityTests
{
    private const string Plain = "sk-edgenode-priority-plain";
    private const string Contributor = "sk-edgenode-priority-contributor";
    private const int Queued = 12;

    [Fact]
    public async Task AContributorsChatStartsBeforeTheOtherKeysQueuedAheadOfIt()
    {
        using var home = TestPaths.NewTempDirectory("serve-priority");
        var environment = new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = $"{Plain},{Contributor}" };
        var link = AgentBinary.Run(["credits", "link", "--key", Contributor], environment, TimeSpan.FromSeconds(60));
        Assert.True(link.ExitCode == 0, link.Stderr);
        Assert.Contains("now a contributor", link.Stderr, StringComparison.Ordinal);

        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--chat-template", "llama2", "--threads", "1", "--max-queue", "32", "--key-rpm", "0", "--ip-rpm", "0"], environment);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 64 };
        using var http = new HttpClient(handler) { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromMinutes(2) };
        var clock = Stopwatch.StartNew();

        // Each chat runs to the model's context (512 positions), so the queue takes long enough to look at.
        Task<(double StartedMs, string Mode)> Chat(string key, int index) => Task.Run(async () =>
        {
            var body = new JsonObject
            {
                ["model"] = "stories260K", ["stream"] = true, ["max_tokens"] = 440, ["temperature"] = 1, ["seed"] = index,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"Story {index}" }),
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
            var started = clock.Elapsed.TotalMilliseconds;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var mode = response.Headers.GetValues("EdgeNode-Mode").Single();
            await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            return (started, mode);
        });

        // Warm: the model is loaded before the queue forms.
        await Chat(Plain, -1);
        var plain = Enumerable.Range(0, Queued).Select(i => Chat(Plain, i)).ToList();
        // Wait until most of them are queued behind the running one.
        var waiting = 0;
        for (var i = 0; i < 200 && waiting < Queued / 2; i++)
        {
            waiting = QueueDepth(http) - 1;
            if (waiting < Queued / 2)
                Thread.Sleep(10);
        }
        Assert.True(waiting >= Queued / 2, $"only {waiting} chats were waiting; the queue never formed");
        var sentAt = clock.Elapsed.TotalMilliseconds;
        var contributor = Chat(Contributor, 1000);
        var all = Task.WhenAll(plain.Append(contributor));
        await all.WaitAsync(TimeSpan.FromMinutes(2));

        var contributorStarted = (await contributor).StartedMs;
        var plainStarts = await Task.WhenAll(plain);
        var plainStartedAfter = plainStarts.Count(t => t.StartedMs > contributorStarted);
        var plainStartedBetween = plainStarts.Count(t => t.StartedMs > sentAt && t.StartedMs < contributorStarted);
        // First come, first served would start it after every one of them; contributor first starts it after at most
        // the run that held the model when it arrived.
        Assert.True(plainStartedBetween <= 1, $"{plainStartedBetween} of the other keys' chats started between the contributor's arrival and its start");
        Assert.True(plainStartedAfter >= waiting - 2, $"only {plainStartedAfter} of the {waiting} waiting chats started after the contributor's");
        Assert.All(plainStarts.Append(await contributor), t => Assert.Equal("local", t.Mode));
    }

    private static int QueueDepth(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/dashboard/events?limit=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Plain);
        using var response = http.Send(request);
        var text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        var snapshot = JsonNode.Parse(text.Trim()["data: ".Length..])!;
        return snapshot["models"]![0]!["queue_depth"]!.GetValue<int>();
    }
}
