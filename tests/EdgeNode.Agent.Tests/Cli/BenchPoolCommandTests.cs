using System.Globalization;
using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `edgenode bench --pool` as a user runs it: the AOT binary starts real `edgenode serve --pool` processes (behind a
/// real mosquitto here, so the test needs no fixed port), runs stories260K through them and solo, and writes JSON.
/// Checked: the JSON's structure, the plan covering every layer once over both nodes, greedy fp32 through the pool
/// equal to solo and to the golden tokens, and the nodes' own byte counters matching the frame layout. Not timings.
/// </summary>
public sealed class BenchPoolCommandTests : IClassFixture<AgentHome>
{
    private readonly AgentHome _home;

    public BenchPoolCommandTests(AgentHome home) => _home = home;

    [Fact]
    public void TwoNodesAgainstSoloWritesTheReportAndFp32EqualsSoloAndTheGolden()
    {
        var golden = GoldenCase.Load("stories260K")[0];
        using var broker = MosquittoBroker.Start();
        using var dir = TestPaths.NewTempDirectory("bench-pool");
        var json = Path.Combine(dir.Path, "pool.json");
        var result = AgentBinary.Run(["bench", "--pool", "--model", TestPaths.Model("stories260K"), "--nodes", "2", "--threads", "1",
            "--tokens", golden.MaxTokens.ToString(CultureInfo.InvariantCulture), "--prompt", golden.Prompt, "--rounds", "1",
            "--encodings", "fp32,int8,int8+zstd", "--sessions", "1,2", "--broker", broker.Url, "--json-out", json, "--label", "test"],
            _home.Environment(), TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, $"bench --pool failed ({result.ExitCode}): {result.Stderr}");
        Assert.Contains("starting node n00", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("plan epoch", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("| hidden | pool ms/token |", result.Stdout, StringComparison.Ordinal);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var r = doc.RootElement;
        Assert.Equal("test", r.GetProperty("label").GetString());
        Assert.Equal(2, r.GetProperty("nodes").GetInt32());
        Assert.Equal(1, r.GetProperty("threads_per_node").GetInt32());
        Assert.Equal(Environment.ProcessorCount, r.GetProperty("cores").GetInt32());
        Assert.Equal("loopback", r.GetProperty("net").GetString());
        var dim = r.GetProperty("dim").GetInt32();
        var layers = r.GetProperty("layers").GetInt32();
        var header = r.GetProperty("frame_header_bytes").GetInt32();
        Assert.Equal(48, header);
        Assert.Equal(2, r.GetProperty("hops").GetInt32());

        // Both nodes serve, the entry first and the head last, the layers once each.
        var hops = r.GetProperty("plan").GetProperty("hops").EnumerateArray().ToList();
        Assert.Equal(2, hops.Count);
        Assert.True(hops[0].GetProperty("embed").GetBoolean());
        Assert.True(hops[1].GetProperty("head").GetBoolean());
        Assert.Equal(0, hops[0].GetProperty("first_layer").GetInt32());
        Assert.Equal(hops[0].GetProperty("end_layer").GetInt32(), hops[1].GetProperty("first_layer").GetInt32());
        Assert.Equal(layers, hops[1].GetProperty("end_layer").GetInt32());
        Assert.NotEqual(hops[0].GetProperty("node_id").GetString(), hops[1].GetProperty("node_id").GetString());

        var solo = Ints(r.GetProperty("solo"), "token_ids");
        Assert.Equal(golden.Tokens, solo);
        var rows = r.GetProperty("encodings").EnumerateArray().ToDictionary(e => e.GetProperty("encoding").GetString()!);
        Assert.Equal(["fp32", "int8", "int8+zstd"], rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(solo, Ints(rows["fp32"], "token_ids"));
        Assert.True(rows["fp32"].GetProperty("equals_solo").GetBoolean());

        // A decode step's Hidden frame: header + 4 x dim at fp32, header + dim + 4 at int8 (one scale), counted by the nodes.
        Assert.Equal(header + 4.0 * dim, rows["fp32"].GetProperty("bytes_per_token_per_hop").GetDouble());
        Assert.Equal(header + dim + 4.0, rows["int8"].GetProperty("bytes_per_token_per_hop").GetDouble());
        var zstd = rows["int8+zstd"].GetProperty("bytes_per_token_per_hop").GetDouble();
        Assert.InRange(zstd, header + 1.0, header + dim + 4.0 + 32);
        foreach (var row in rows.Values)
        {
            // One Hidden frame per decode step on each of the N - 1 hidden hops.
            Assert.Equal((row.GetProperty("tokens").GetInt32() - 1) * (hops.Count - 1), row.GetProperty("decode_frames").GetInt64());
            foreach (var name in (string[])["ms_per_token", "tok_s", "per_hop_overhead_ms"])
                Assert.Equal(JsonValueKind.Number, row.GetProperty(name).ValueKind);
        }

        var concurrency = r.GetProperty("concurrency").EnumerateArray().ToList();
        Assert.Equal([1, 2], concurrency.Select(c => c.GetProperty("sessions").GetInt32()));
        Assert.Equal(2 * concurrency[0].GetProperty("tokens").GetInt32(), concurrency[1].GetProperty("tokens").GetInt32());
        Assert.All(concurrency, c => Assert.True(c.GetProperty("aggregate_tok_s").GetDouble() > 0));

        var anchors = r.GetProperty("anchors");
        Assert.False(anchors.GetProperty("comparable").GetBoolean());   // stories260K is not the anchors' shape
        Assert.Equal(["distributed-llama", "llama.cpp RPC"], anchors.GetProperty("rows").EnumerateArray().Select(a => a.GetProperty("engine").GetString()));
    }

    /// <summary>
    /// Every node gets layers whatever the split: 3 nodes on 5 layers needs a budget nudged for the planner's ordering
    /// (the head weighs less than a layer here), 5 nodes one layer each; int4 shrinks layers and head, not the embedding.
    /// </summary>
    [Theory]
    [InlineData(3, "fp32")]
    [InlineData(5, "int4")]
    public void EveryNodeServesAShareOfTheLayers(int nodes, string precision)
    {
        using var doc = RunOnStories260K("--nodes", nodes.ToString(CultureInfo.InvariantCulture), "--precision", precision, "--tokens", "8");
        var hops = doc.RootElement.GetProperty("plan").GetProperty("hops").EnumerateArray()
            .Select(h => (First: h.GetProperty("first_layer").GetInt32(), End: h.GetProperty("end_layer").GetInt32())).ToList();
        Assert.Equal(nodes, hops.Count);
        Assert.Equal(0, hops[0].First);
        for (var i = 1; i < hops.Count; i++)
            Assert.Equal(hops[i - 1].End, hops[i].First);
        Assert.Equal(5, hops[^1].End);
        Assert.All(hops, h => Assert.InRange(h.End - h.First, 1, 2));
        Assert.Equal(precision, doc.RootElement.GetProperty("precision").GetString());
        Assert.Empty(doc.RootElement.GetProperty("concurrency").EnumerateArray());
    }

    [Theory]
    [InlineData("--nodes", "6", "--nodes 6 is more than stories260K's 5 layers")]
    [InlineData("--node-memory", "1G,300K", "--node-memory: node n00's 1024.0 MiB holds all of stories260K")]
    public void APoolTheModelCannotBeSpreadOverIsNamedBeforeAnyNodeStarts(string option, string value, string message)
    {
        var result = _home.Run("bench", "--pool", "--model", TestPaths.Model("stories260K"), option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("starting node", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Nodes of different sizes (--node-memory): the largest gets the most layers, the smallest the fewest, no node
    /// could hold the model alone, and greedy output through the pool equals solo at fp32 and with int8 weights
    /// (slices cut anywhere compute what the whole model does).
    /// </summary>
    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public void NodesOfDifferentSizesGetRangesInProportionAndEqualSolo(string precision)
    {
        // Room for 3 layers beside the embedding, 1 beside the head, 1 alone (stories260K: 181 760 bytes a layer at fp32,
        // 51 488 at int8; embedding 131 072 + tokenizer; head 131 328 / 37 120).
        var budgets = precision == "fp32" ? "690K,320K,190K" : "300K,120K,80K";
        using var doc = RunOnStories260K("--node-memory", budgets, "--precision", precision, "--tokens", "64");
        var plan = doc.RootElement.GetProperty("plan");
        var hops = plan.GetProperty("hops").EnumerateArray()
            .Select(h => (Layers: h.GetProperty("end_layer").GetInt32() - h.GetProperty("first_layer").GetInt32(), Budget: h.GetProperty("max_memory_bytes").GetInt64()))
            .ToList();
        Assert.Equal(3, hops.Count);
        Assert.All(hops, h => Assert.True(h.Budget < plan.GetProperty("model_bytes").GetInt64(), "a node could hold the whole model"));
        var byBudget = hops.OrderByDescending(h => h.Budget).Select(h => h.Layers).ToList();
        Assert.Equal([3, 1, 1], byBudget);
        var row = doc.RootElement.GetProperty("encodings")[0];
        Assert.Equal(Ints(doc.RootElement.GetProperty("solo"), "token_ids"), Ints(row, "token_ids"));
    }

    [Fact]
    public void NodeMemoryAndNodesThatDisagreeAreNamed()
    {
        var one = _home.Run("bench", "--pool", "--model", TestPaths.Model("stories260K"), "--node-memory", "600K");
        Assert.Equal(2, one.ExitCode);
        Assert.Contains("names 1 node(s); a pool needs two or more", one.Stderr, StringComparison.Ordinal);
        var mismatch = _home.Run("bench", "--pool", "--model", TestPaths.Model("stories260K"), "--nodes", "3", "--node-memory", "600K,600K");
        Assert.Equal(2, mismatch.ExitCode);
        Assert.Contains("--nodes 3 but --node-memory names 2 budgets", mismatch.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownEncodingIsNamed()
    {
        var result = _home.Run("bench", "--pool", "--model", TestPaths.Model("stories260K"), "--encodings", "fp32,int4");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown hidden-state encoding 'int4'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownNetIsNamed()
    {
        var result = _home.Run("bench", "--pool", "--model", TestPaths.Model("stories260K"), "--net", "wifi");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--net 'wifi' is not loopback or veth", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void VethWithoutRootIsNamed()
    {
        // Run as nobody when the test runs as root (as CI does), so the check meets a user without the right.
        List<string> args = ["bench", "--pool", "--model", TestPaths.Model("stories260K"), "--net", "veth"];
        var result = Environment.IsPrivilegedProcess
            ? AgentBinary.RunAt("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", AgentBinary.Path, .. args], _home.Environment())
            : _home.Run([.. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--net veth needs root", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ASessionCountThatIsNotANumberIsNamed()
    {
        var result = _home.Run("bench", "--pool", "--model", TestPaths.Model("stories260K"), "--sessions", "1,two");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--sessions: 'two'", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>bench --pool over stories260K behind a real mosquitto, one round of fp32 hidden states and no concurrency; its JSON.</summary>
    private JsonDocument RunOnStories260K(params string[] options)
    {
        using var broker = MosquittoBroker.Start();
        using var dir = TestPaths.NewTempDirectory("bench-pool-run");
        var json = Path.Combine(dir.Path, "pool.json");
        var result = _home.Run(["bench", "--pool", "--model", TestPaths.Model("stories260K"), .. options,
            "--rounds", "1", "--encodings", "fp32", "--sessions", "0", "--broker", broker.Url, "--json-out", json]);
        Assert.True(result.ExitCode == 0, $"bench --pool {string.Join(' ', options)} failed ({result.ExitCode}): {result.Stderr}");
        return JsonDocument.Parse(File.ReadAllText(json));
    }

    private static int[] Ints(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(x => x.GetInt32())];
}
