using System.Globalization;
using System.Net;
using System.Text.Json;
using EdgeNode.Agent.Cli;
using EdgeNode.Agent.Commands;
using EdgeNode.Inference.Runtime;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Planning;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `generate --entry HOST:PORT` runs through a real chain (three in-process nodes on loopback TCP, each with its own
/// slice) and prints local generation's JSON plus the nodes and slices: fp32 greedy equals the golden tokens.
/// </summary>
public sealed class GeneratePoolEntryTests
{
    [Fact]
    public async Task EntryPathPrintsTheGoldenTokensAndTheChain()
    {
        using var root = TestPaths.NewTempDirectory("generate-entry");
        var (_, checkpoint, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == "stories260K");
        var folder = Path.Combine(root.Path, "stories260K");
        ModelConverter.Convert(checkpoint, tokenizer, folder, new ConversionOptions { LayerRanges = [(0, 2), (2, 5)], Name = "stories260K" });
        var runtime = new InferenceRuntime(new InferenceOptions { Threads = 1 });
        var nodes = new List<ChainNode>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var node = new ChainNode(new ChainNodeOptions { ModelFolder = folder, Runtime = runtime, ListenAddress = IPAddress.Loopback });
                nodes.Add(node);
                node.Start();
            }
            var plan = new PoolPlan("test", "stories260K", 3, [
                new SliceAssignment("a", 0, 2, true, false, $"127.0.0.1:{nodes[0].Port}"),
                new SliceAssignment("b", 2, 5, false, true, $"127.0.0.1:{nodes[1].Port}"),
            ]);
            await nodes[0].ApplyPlan(plan, "a");
            await nodes[1].ApplyPlan(plan, "b");

            var golden = GoldenCase.Load("stories260K")[0];
            var stdout = new StringWriter();
            var args = new ArgumentReader("generate", ["--prompt", golden.Prompt, "--max-tokens", golden.MaxTokens.ToString(CultureInfo.InvariantCulture),
                "--temperature", "0", "--hidden", "fp32", "--json"]);
            var exit = await Task.Run(() => GenerateCommand.RunThroughPool(plan.Assignments[0].DataEndpoint, args, stdout));
            Assert.Equal(0, exit);
            using var json = JsonDocument.Parse(stdout.ToString());
            var report = json.RootElement;
            Assert.Equal(golden.Tokens, report.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(golden.PromptTokens, report.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("fp32", report.GetProperty("hidden").GetString());
            Assert.Equal(3, report.GetProperty("epoch").GetInt64());
            var hops = report.GetProperty("nodes").EnumerateArray().Select(n => (n.GetProperty("node_id").GetString(), n.GetProperty("first_layer").GetInt32(), n.GetProperty("end_layer").GetInt32())).ToList();
            Assert.Equal([("a", 0, 2), ("b", 2, 5)], hops);
            Assert.True(report.GetProperty("decode_tok_s").GetDouble() > 0);
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
    }

    /// <summary>
    /// `generate --entry --draft` drafts here and verifies through a two-node chain: greedy, the tokens are the golden
    /// ones, and --json reports the acceptance like the HTTP verifier path.
    /// </summary>
    [Theory]
    [InlineData("model")]
    [InlineData("ngram")]
    public async Task EntryPathWithADraftVerifiesThroughTheChain(string drafter)
    {
        using var root = TestPaths.NewTempDirectory("generate-entry-draft");
        var models = GoldenCase.RealModels().ToDictionary(m => m.Folder);
        var folder = Path.Combine(root.Path, "stories260K");
        ModelConverter.Convert(models["stories260K"].Checkpoint, models["stories260K"].Tokenizer, folder, new ConversionOptions { LayerRanges = [(0, 2), (2, 5)], Name = "stories260K" });
        var draftFolder = Path.Combine(root.Path, "llama2xs");
        ModelConverter.Convert(models["llama2xs-tok512-280K"].Checkpoint, models["llama2xs-tok512-280K"].Tokenizer, draftFolder, new ConversionOptions { Name = "llama2xs" });
        var runtime = new InferenceRuntime(new InferenceOptions { Threads = 1 });
        var nodes = new List<ChainNode>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var node = new ChainNode(new ChainNodeOptions { ModelFolder = folder, Runtime = runtime, ListenAddress = IPAddress.Loopback });
                nodes.Add(node);
                node.Start();
            }
            var plan = new PoolPlan("test", "stories260K", 2, [
                new SliceAssignment("a", 0, 2, true, false, $"127.0.0.1:{nodes[0].Port}"),
                new SliceAssignment("b", 2, 5, false, true, $"127.0.0.1:{nodes[1].Port}"),
            ]);
            await nodes[0].ApplyPlan(plan, "a");
            await nodes[1].ApplyPlan(plan, "b");

            var golden = GoldenCase.Load("stories260K")[0];
            var stdout = new StringWriter();
            string[] draftArgs = drafter == "model" ? ["--draft", draftFolder, "--threads", "1"] : ["--draft", "ngram", "--model", folder];
            var args = new ArgumentReader("generate", ["--prompt", golden.Prompt, "--max-tokens", golden.MaxTokens.ToString(CultureInfo.InvariantCulture),
                "--temperature", "0", "--hidden", "fp32", "--json", .. draftArgs]);
            var exit = await Task.Run(() => GenerateCommand.RunThroughPool(plan.Assignments[0].DataEndpoint, args, stdout));
            Assert.Equal(0, exit);
            using var json = JsonDocument.Parse(stdout.ToString());
            var report = json.RootElement;
            Assert.Equal(golden.Tokens, report.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal("stories260K", report.GetProperty("model").GetString());
            Assert.StartsWith(drafter == "model" ? "model:" : "ngram", report.GetProperty("drafter").GetString());
            Assert.Contains("2 nodes", report.GetProperty("verifier").GetString());
            var rounds = report.GetProperty("rounds").GetInt32();
            Assert.InRange(rounds, 1, golden.Tokens.Length - 1);
            Assert.InRange(report.GetProperty("accept_rate").GetDouble(), 0.01, 1);
            Assert.True(report.GetProperty("tokens_per_round").GetDouble() > 1);
            Assert.True(report.GetProperty("draft_length").GetDouble() > 0);
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
    }

    [Fact]
    public void AnEntryNobodyServesIsAClearError()
    {
        var args = new ArgumentReader("generate", ["--prompt", "hi"]);
        var stdout = new StringWriter();
        // Port 1 on loopback: nothing listens there, the connect is refused at once.
        Assert.Equal(1, GenerateCommand.RunThroughPool("127.0.0.1:1", args, stdout));
    }
}
