using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Tests.Support;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests.Processes;

/// <summary>
/// The pool as an operator runs it: real `edgenode serve --pool` processes (the AOT binary), each in its own network
/// namespace on a bridge, a real mosquitto (or one node's embedded broker, or mDNS), and `edgenode generate --pool`
/// from a machine with no model files. Each node's --max-memory is below the whole model, so the model only runs
/// across nodes.
/// </summary>
public sealed partial class PoolProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PlanTimeout = TimeSpan.FromSeconds(30);

    [NetnsFact]
    public void ThreeNodesOnMosquittoMatchTheGoldensThenAFourthJoinsAndAKilledNodeIsNamed()
    {
        const string model = "stories260K";
        using var served = ServedFolder(model);
        using var lab = NetworkLab.Create(3);
        using var broker = MosquittoBroker.Start(lab.BridgeAddress);
        var pool = Nodes.UniquePool();
        // Unequal boards: node-0 can hold three layers, the others one, so three nodes serve with a slowest stage of
        // three layers and a fourth small node shortens it to two: the leader re-plans when it joins.
        var big = MaxMemory(model, 3, out var whole);
        var small = MaxMemory(model, 1, out _);
        output.WriteLine($"{model}: whole model {whole} bytes; --max-memory {big} on node-0, {small} on the others");
        var nodes = new List<PoolServeNode>();
        try
        {
            // Started together, as boards powered on at once.
            nodes.AddRange(lab.Hosts.Select((h, i) => PoolServeNode.Start(h, $"node-{i}", served.Path, broker.Url, pool, i == 0 ? big : small)));
            var epoch = WaitForCommonEpoch(nodes, 0);
            output.WriteLine($"3 nodes serve epoch {epoch}");

            CheckGoldens(model, pool, broker.Url, null, hops: 3);
            ReportInt8Agreement(model, pool, broker.Url);

            // A fourth node joins the serving pool: the leader re-plans, every node switches to the new epoch.
            var joiner = PoolServeNode.Start(lab.AddHost(), "node-3", served.Path, broker.Url, pool, small);
            nodes.Add(joiner);
            var next = WaitForCommonEpoch(nodes, epoch);
            var serving = joiner.Serving!.Value;
            var joined = (serving.At - joiner.StartedAt).TotalMilliseconds;
            output.WriteLine($"4th node: serving epoch {next} {joined:F0} ms after its process started (slice built in {serving.BuildMs:F0} ms, ready {serving.ReadyMs:F0} ms after the plan)");
            Assert.True(joined <= 5000 + serving.BuildMs, $"the 4th node served {joined:F0} ms after it started; the target is 5 s plus its slice ({serving.BuildMs:F0} ms)");
            CheckGoldens(model, pool, broker.Url, null, hops: 4);

            // A node killed mid-generation: the client's stream ends with an error naming it, within 5 s.
            var victim = nodes[1];
            // A slower link to the victim, so the generation is still running when it dies.
            // (tbf with a small burst: about 8 fp32 decode frames a second reach it.)
            using (var tc = Process.Start("tc", ["qdisc", "replace", "dev", victim.Host.BridgePort, "root", "tbf", "rate", "20kbit", "burst", "1600", "latency", "2s"]))
                Assert.True(tc.WaitForExit(10_000) && tc.ExitCode == 0, "tc tbf failed");
            var client = StartClient(["generate", "--pool", pool, "--broker", broker.Url, "--model", model, "--prompt", "Once", "--temperature", "0", "--max-tokens", "400", "--hidden", "fp32"]);
            var firstText = WaitFor(() => client.Stdout.Length > 0, TimeSpan.FromSeconds(20));
            Assert.True(firstText, $"no text streamed before the kill: {client.Stderr}");
            var killedAt = Stopwatch.StartNew();
            victim.KillHard();
            Assert.True(client.Process.WaitForExit(TimeSpan.FromSeconds(10)), "the client still runs 10 s after a node was killed");
            var ended = killedAt.Elapsed;
            output.WriteLine($"killed {victim.NodeId} mid-generation; the client ended {ended.TotalMilliseconds:F0} ms later: {client.Stderr.Trim()}");
            Assert.NotEqual(0, client.Process.ExitCode);
            Assert.True(ended <= TimeSpan.FromSeconds(5), $"the client ended {ended.TotalSeconds:F1} s after the kill");
            Assert.Contains(victim.NodeId, client.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            StopAll(nodes);
        }
    }

    [NetnsFact]
    public void EmbeddedBrokerAndMdnsDiscoveryMatchTheGoldens()
    {
        const string model = "llama2xs-tok512-280K";
        using var served = ServedFolder(model);
        using var lab = NetworkLab.Create(3);
        var pool = Nodes.UniquePool();
        var max = MaxMemory(model, 2, out var whole);
        output.WriteLine($"{model}: whole model {whole} bytes, each node's --max-memory {max}");
        var nodes = new List<PoolServeNode>();
        try
        {
            // Node 0 hosts the broker and advertises it; node 1 is told its URL; node 2 finds it by mDNS.
            var host0 = lab.Hosts[0];
            nodes.Add(PoolServeNode.Start(host0, "node-0", served.Path, "embedded", pool, max));
            Assert.True(nodes[0].WaitForLog("listening on", TimeSpan.FromSeconds(30)), nodes[0].Stderr);
            var url = $"mqtt://{host0.Address}:1883";
            nodes.Add(PoolServeNode.Start(lab.Hosts[1], "node-1", served.Path, url, pool, max));
            nodes.Add(PoolServeNode.Start(lab.Hosts[2], "node-2", served.Path, null, pool, max));
            var epoch = WaitForCommonEpoch(nodes, 0);
            output.WriteLine($"3 nodes serve epoch {epoch} (embedded broker on node-0, node-2 by mDNS)");

            CheckGoldens(model, pool, url, null, hops: 3);
            // The client finds the broker by mDNS too (from a host on the LAN).
            CheckGoldens(model, pool, null, lab.Hosts[2], hops: 3);
        }
        finally
        {
            StopAll(nodes);
        }
    }

    [Fact]
    public void GenerateWithoutABrokerForThePoolSaysSo()
    {
        using var broker = MosquittoBroker.Start();
        var result = AgentBinary.Run(["generate", "--pool", "nobody-here", "--broker", broker.Url, "--model", "stories260K", "--prompt", "x"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = Path.GetTempPath() }, TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("has no chain for model 'stories260K'", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("serves no model yet", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Every golden case, greedy with fp32 hidden states, through `generate --pool --json`: tokens equal the golden's.</summary>
    private void CheckGoldens(string model, string pool, string? broker, LabHost? from, int hops, string? poolSecret = null)
    {
        foreach (var golden in GoldenCase.Load(model))
        {
            var report = Generate(model, pool, broker, from, golden, "fp32", poolSecret);
            Assert.Equal(golden.PromptTokens, Ints(report, "prompt_tokens"));
            Assert.Equal(golden.Tokens, Ints(report, "tokens"));
            Assert.Equal(hops, report.GetProperty("nodes").GetArrayLength());
        }
        output.WriteLine($"{model}: every golden case equal through {hops} nodes (fp32 hidden states){(from is null ? "" : $", from {from.Namespace} by mDNS")}");
    }

    private void ReportInt8Agreement(string model, string pool, string broker)
    {
        long agreed = 0, total = 0;
        foreach (var golden in GoldenCase.Load(model))
        {
            var tokens = Ints(Generate(model, pool, broker, null, golden, "int8"), "tokens");
            var prefix = 0;
            while (prefix < golden.Tokens.Length && prefix < tokens.Length && golden.Tokens[prefix] == tokens[prefix])
                prefix++;
            agreed += prefix;
            total += golden.Tokens.Length;
        }
        output.WriteLine($"{model}: int8 hidden states, greedy agreement {(double)agreed / total:F3} ({agreed}/{total} golden tokens before the first divergence)");
    }

    private static JsonElement Generate(string model, string pool, string? broker, LabHost? from, GoldenCase golden, string hidden, string? poolSecret = null)
    {
        List<string> args = ["generate", "--pool", pool, "--model", model, "--prompt", golden.Prompt, "--temperature", "0",
            "--max-tokens", golden.MaxTokens.ToString(CultureInfo.InvariantCulture), "--hidden", hidden, "--json"];
        if (broker is not null)
            args.AddRange(["--broker", broker]);
        if (poolSecret is not null)
            args.AddRange(["--pool-secret", poolSecret]);
        var env = new Dictionary<string, string?> { ["EDGENODE_HOME"] = Path.GetTempPath() };
        var result = from is null
            ? AgentBinary.Run(args, env, TimeSpan.FromSeconds(60))
            : RunIn(from, args);
        Assert.True(result.ExitCode == 0, $"generate --pool failed ({result.ExitCode}): {result.Stderr}");
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }

    private static AgentBinary.Result RunIn(LabHost host, List<string> args)
    {
        var (file, arguments) = host.Wrap(AgentBinary.Path, args);
        var client = StartClient(arguments, file);
        Assert.True(client.Process.WaitForExit(TimeSpan.FromSeconds(60)), "generate did not finish in 60 s");
        client.Process.WaitForExit();
        return new AgentBinary.Result(client.Process.ExitCode, client.Stdout, client.Stderr, TimeSpan.Zero);
    }

    /// <summary>
    /// A llama2.c folder named as the model, with its golden checkpoint and tokenizer (linked, not copied): what a
    /// node is given with --model. (llama2xs-tok512-280K's tokenizer lives in the stories260K folder.)
    /// </summary>
    private static ServedModelFolder ServedFolder(string model)
    {
        var golden = GoldenCase.Load(model)[0];
        var root = TestPaths.NewTempDirectory("pool-served");
        var folder = Path.Combine(root.Path, model);
        Directory.CreateDirectory(folder);
        File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(golden.CheckpointPath)), golden.CheckpointPath);
        File.CreateSymbolicLink(Path.Combine(folder, "tok512.bin"), golden.TokenizerPath);
        return new ServedModelFolder(root, folder);
    }

    private sealed class ServedModelFolder(TempDirectory root, string path) : IDisposable
    {
        public string Path { get; } = path;

        public void Dispose() => root.Dispose();
    }

    private static int[] Ints(JsonElement report, string name) => [.. report.GetProperty(name).EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>
    /// A budget of <paramref name="layers"/> layers plus the larger of the embedding (with the tokenizer) and the
    /// head, at fp32, from the checkpoint's header: below the whole model, so no node holds it all.
    /// </summary>
    private static long MaxMemory(string model, int layers, out long whole)
    {
        var golden = GoldenCase.Load(model)[0];
        using var reader = new BinaryReader(File.OpenRead(golden.CheckpointPath));
        int dim = reader.ReadInt32(), hidden = reader.ReadInt32(), modelLayers = reader.ReadInt32(), heads = reader.ReadInt32(), kvHeads = reader.ReadInt32();
        var vocab = Math.Abs(reader.ReadInt32());
        long kv = (long)dim / heads * kvHeads;
        var perLayer = 4 * (2L * dim * dim + 2L * dim * kv + 3L * dim * hidden) + 2L * dim * 4;
        var embed = 4L * vocab * dim + new FileInfo(golden.TokenizerPath).Length;
        var head = 4L * vocab * dim + dim * 4;
        whole = modelLayers * perLayer + embed + head;
        var budget = layers * perLayer + Math.Max(embed, head) + 1024;
        Assert.True(budget < whole, $"a budget of {layers} layers holds the whole model");
        return budget;
    }

    /// <summary>Waits until every node serves one epoch newer than <paramref name="after"/>; returns it.</summary>
    private static long WaitForCommonEpoch(List<PoolServeNode> nodes, long after)
    {
        var deadline = DateTime.UtcNow + PlanTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var epochs = nodes.Select(n => n.Serving?.Epoch ?? 0).Distinct().ToList();
            if (epochs.Count == 1 && epochs[0] > after)
                return epochs[0];
            if (nodes.FirstOrDefault(n => n.HasExited) is { } dead)
                Assert.Fail($"{dead.NodeId} exited: {dead.Stderr}");
            Thread.Sleep(100);
        }
        Assert.Fail("the nodes did not come to serve one epoch within 30 s: " + string.Join("; ", nodes.Select(n => $"{n.NodeId} serves {n.Serving?.Epoch}: {Tail(n.Stderr)}")));
        return 0;
    }

    private static string Tail(string text) => text.Length > 1500 ? text[^1500..] : text;

    private static bool WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !condition())
            Thread.Sleep(20);
        return condition();
    }

    private static void StopAll(List<PoolServeNode> nodes) =>
        Parallel.ForEach(nodes, n => n.Dispose());

    private static RunningClient StartClient(IReadOnlyList<string> args, string? file = null)
    {
        var start = new ProcessStartInfo(file ?? AgentBinary.Path)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = TestPaths.RepoRoot,
        };
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment.Remove("EDGENODE_DEBUG");
        start.Environment["EDGENODE_HOME"] = Path.GetTempPath();
        var client = new RunningClient(Process.Start(start)!);
        // Text streams without newlines: read characters as they come, not lines.
        _ = Task.Run(async () =>
        {
            var buffer = new char[256];
            int read;
            while ((read = await client.Process.StandardOutput.ReadAsync(buffer)) > 0)
                lock (client.Out) client.Out.Append(buffer, 0, read);
        });
        client.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (client.Err) client.Err.AppendLine(e.Data); };
        client.Process.BeginErrorReadLine();
        return client;
    }

    private sealed class RunningClient(Process process)
    {
        public Process Process { get; } = process;
        public StringBuilder Out { get; } = new();
        public StringBuilder Err { get; } = new();

        public string Stdout
        {
            get { lock (Out) return Out.ToString(); }
        }

        public string Stderr
        {
            get { lock (Err) return Err.ToString(); }
        }
    }
}
