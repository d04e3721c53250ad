using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// The pool as a serving mode: two real `edgenode serve --pool` nodes on a real mosquitto, each agreeing to hold about
/// 75% of stories260K, so neither can serve it alone and together they can. Asked through the official openai client,
/// a node answers from the pool's chain: the greedy completion is the golden continuation, the mode says "pool", and a
/// chat (rendered here, sent to the chain as token ids) says what a node holding the whole model says.
/// </summary>
public sealed class PoolModeTests
{
    private const string Model = "stories260K";

    [Fact]
    public async Task ANodeThatCannotHoldTheModelServesItThroughThePoolsChain()
    {
        using var broker = MosquittoBroker.Start();
        var pool = "p" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var golden = GoldenCase.Load(Model)[0];
        var share = (new FileInfo(golden.CheckpointPath).Length * 3 / 4).ToString(CultureInfo.InvariantCulture);
        using var homeA = TestPaths.NewTempDirectory("pool-mode-a");
        using var homeB = TestPaths.NewTempDirectory("pool-mode-b");
        using var homeSolo = TestPaths.NewTempDirectory("pool-mode-solo");
        using var a = StartNode("node-a", homeA.Path, broker.Url, pool, share);
        using var b = StartNode("node-b", homeB.Path, broker.Url, pool, share);
        using var solo = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model(Model), "--threads", "1", "--chat-template", "llama2"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = homeSolo.Path });

        // The pool plans once both nodes are up; until then the node says what it lacks.
        using var http = new HttpClient { BaseAddress = new Uri(a.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        var probe = new JsonObject { ["model"] = Model, ["prompt"] = golden.Prompt, ["max_tokens"] = 2, ["temperature"] = 0 }.ToJsonString();
        string? mode = null, lastAnswer = null;
        for (var attempt = 0; attempt < 60 && mode is null; attempt++)
        {
            using var raw = await http.PostAsync("/v1/completions", new StringContent(probe, Encoding.UTF8, "application/json"));
            if (raw.StatusCode == HttpStatusCode.OK)
                mode = Assert.Single(raw.Headers.GetValues("EdgeNode-Mode"));
            else
                lastAnswer = $"{(int)raw.StatusCode} {await raw.Content.ReadAsStringAsync()}";
            if (mode is null)
                await Task.Delay(500);
        }
        Assert.True(mode is not null, $"the pool never served {Model} within 30 s; last answer: {lastAnswer}\nnode-a: {a.Stderr}\nnode-b: {b.Stderr}");
        Assert.Equal("pool", mode);

        var completion = new JsonObject
        {
            ["model"] = Model, ["prompt"] = golden.Prompt, ["max_tokens"] = golden.MaxTokens, ["temperature"] = 0,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        var whole = (JsonObject)completion.DeepClone();
        whole.Remove("stream_options");
        var chat = new JsonObject
        {
            ["model"] = Model, ["max_tokens"] = 24, ["temperature"] = 0,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Tell me about a cat." }),
        };
        var results = OpenAiClient.Run(a, "no-key-needed", OpenAiClient.Completion(whole), OpenAiClient.Completion(completion, stream: true), OpenAiClient.Chat(chat));

        var answer = results[0]!.AsObject();
        Assert.True(answer["ok"]!.GetValue<bool>(), answer.ToJsonString());
        Assert.Equal(golden.Text, golden.Prompt + answer["response"]!["choices"]![0]!["text"]!.GetValue<string>());
        Assert.Equal("pool", answer["response"]!["usage"]!["edgenode_mode"]!.GetValue<string>());
        Assert.Equal(golden.PromptTokens.Length, answer["response"]!["usage"]!["prompt_tokens"]!.GetValue<int>());
        var streamed = results[1]!.AsObject();
        Assert.True(streamed["ok"]!.GetValue<bool>(), streamed.ToJsonString());
        Assert.Equal(golden.Text, golden.Prompt + streamed["text"]!.GetValue<string>());

        var pooledChat = results[2]!.AsObject();
        Assert.True(pooledChat["ok"]!.GetValue<bool>(), pooledChat.ToJsonString());
        Assert.Equal("pool", pooledChat["response"]!["usage"]!["edgenode_mode"]!.GetValue<string>());
        var soloChat = OpenAiClient.Run(solo, "no-key-needed", OpenAiClient.Chat(chat))[0]!.AsObject();
        Assert.True(soloChat["ok"]!.GetValue<bool>(), soloChat.ToJsonString());
        Assert.Equal("local", soloChat["response"]!["usage"]!["edgenode_mode"]!.GetValue<string>());
        Assert.Equal(soloChat["response"]!["choices"]![0]!["message"]!["content"]!.GetValue<string>(),
            pooledChat["response"]!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(soloChat["response"]!["usage"]!["prompt_tokens"]!.GetValue<int>(), pooledChat["response"]!["usage"]!["prompt_tokens"]!.GetValue<int>());

        // The dashboard shows the pool: its event stream carries the pool's status, and the page renders a row per node.
        var events = await http.GetStringAsync("/v1/dashboard/events?limit=1");
        var snapshot = JsonNode.Parse(events["data: ".Length..].Trim())!;
        var poolStatus = snapshot["pool"]!;
        Assert.Equal(pool, poolStatus["pool"]!.GetValue<string>());
        var plan = Assert.Single(poolStatus["plans"]!.AsArray())!["plan"]!;
        Assert.Equal(Model, plan["model"]!.GetValue<string>());
        Assert.Equal(2, plan["assignments"]!.AsArray().Count);
        Assert.Equal(["node-a", "node-b"], poolStatus["nodes"]!.AsArray().Select(n => n!["node_id"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var dom = HeadlessChromium.DumpDom(a.BaseUrl + "/", virtualTimeMs: 3000);
        Assert.Contains($"pool {pool} via {broker.Url}", dom, StringComparison.Ordinal);
        Assert.Contains($"{Model}: 2 nodes, epoch {plan["epoch"]!.GetValue<long>()}", dom, StringComparison.Ordinal);
        Assert.Matches(@"<td>node-b</td><td>serving</td><td>stories260K \[[0-9],5\) \+head</td>", dom);
    }

    [Fact]
    public async Task WithoutAPlanTheErrorNamesThePoolAndWhatItServes()
    {
        using var broker = MosquittoBroker.Start();
        using var home = TestPaths.NewTempDirectory("pool-mode-alone");
        var golden = GoldenCase.Load(Model)[0];
        // One node holding a tenth of the model: the pool cannot plan it, and the node cannot run it alone.
        var tenth = (new FileInfo(golden.CheckpointPath).Length / 10).ToString(CultureInfo.InvariantCulture);
        using var node = StartNode("node-a", home.Path, broker.Url, "lonely", tenth);
        using var http = new HttpClient { BaseAddress = new Uri(node.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        var body = new JsonObject { ["model"] = Model, ["prompt"] = "Once", ["max_tokens"] = 2 }.ToJsonString();
        using var raw = await http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, raw.StatusCode);
        var error = JsonNode.Parse(await raw.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("no_serving_mode", error["code"]!.GetValue<string>());
        var message = error["message"]!.GetValue<string>();
        Assert.Contains("does not fit this node's", message, StringComparison.Ordinal);
        Assert.Contains("pool 'lonely'", message, StringComparison.Ordinal);
    }

    private static ServeProcess StartNode(string nodeId, string home, string broker, string pool, string maxMemory) =>
        ServeProcess.Start(
            ["--listen", "127.0.0.1:0", "--model", TestPaths.Model(Model), "--threads", "1", "--chat-template", "llama2",
             "--pool", pool, "--broker", broker, "--node-id", nodeId, "--data-port", FreePortPair().ToString(CultureInfo.InvariantCulture),
             "--max-memory", maxMemory],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home });

    /// <summary>A free port whose next is free too (the data plane takes N, the slice server N+1).</summary>
    private static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var first = new TcpListener(IPAddress.Any, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            if (port >= 65535)
                continue;
            try
            {
                using var second = new TcpListener(IPAddress.Any, port + 1);
                second.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no two free neighbouring ports found");
    }
}
