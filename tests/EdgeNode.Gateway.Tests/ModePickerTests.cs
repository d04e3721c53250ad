using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>A model that fits no mode on this node: the error names what each mode lacked, and the node keeps serving.</summary>
public sealed class ModePickerTests
{
    [Fact]
    public async Task AModelThatFitsNowhereGetsAnErrorSayingWhatIsMissing()
    {
        using var home = TestPaths.NewTempDirectory("serve-nofit");
        // stories260K.bin is about 1 MB; a 100 KB budget cannot hold it, and this node has no pool and no verifier.
        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K"), "--chat-template", "llama2", "--memory", "100000"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path });
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        var chat = new JsonObject
        {
            ["model"] = "stories260K", ["max_tokens"] = 5,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hi" }),
        };
        foreach (var (path, body) in new[] { ("/v1/chat/completions", chat), ("/v1/jobs", new JsonObject { ["url"] = "/v1/chat/completions", ["body"] = chat.DeepClone() }) })
        {
            using var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("false", Assert.Single(response.Headers.GetValues("x-should-retry")));
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("no_serving_mode", error["code"]!.GetValue<string>());
            var message = error["message"]!.GetValue<string>();
            Assert.Contains("cannot serve 'stories260K'", message, StringComparison.Ordinal);
            Assert.Contains("does not fit this node's 100 KB memory budget", message, StringComparison.Ordinal);
            Assert.Matches(@"stories260K \(1\.\d MB\)", message);
            if (path == "/v1/chat/completions")
            {
                Assert.Contains("no pool serves it (no broker configured)", message, StringComparison.Ordinal);
                Assert.Contains("no verifier is configured", message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("a job runs on this node only", message, StringComparison.Ordinal);
            }
        }
        using var models = await http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
    }
}
