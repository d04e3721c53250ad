using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeNode.Agent.Cli;
using EdgeNode.Agent.Daemon;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Import;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Agent.Bench;

/// <summary>What `edgenode bench --pool` runs.</summary>
internal sealed record PoolBenchOptions
{
    /// <summary>A checkpoint the nodes build their slices from (llama2.c .bin or its folder, with its tokenizer).</summary>
    public required string Model { get; init; }

    /// <summary>The edgenode binary the nodes run (`edgenode serve`).</summary>
    public required string Binary { get; init; }
    public required int Nodes { get; init; }
    public required int Threads { get; init; }
    public required int Tokens { get; init; }
    public required int Rounds { get; init; }
    public required WeightPrecision Precision { get; init; }
    public required IReadOnlyList<string> Encodings { get; init; }
    public required IReadOnlyList<int> Sessions { get; init; }

    /// <summary>false: every node in this network namespace; true: a namespace per node, veth links to a bridge.</summary>
    public required bool Veth { get; init; }

    /// <summary>An MQTT broker every node reaches; null: node 0 hosts one (`--broker embedded`).</summary>
    public string? Broker { get; init; }
    public string? Label { get; init; }
    public string Prompt { get; init; } = "Once upon a time";

    /// <summary>Each node's --max-memory as given (a heterogeneous pool); null: budgets that give every node an equal share.</summary>
    public IReadOnlyList<long>? NodeMemory { get; init; }

    /// <summary>How long the nodes may take to join, build their slices and serve the plan.</summary>
    public TimeSpan PlanTimeout { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>
/// Pool against solo on the same weights, in one run: real `edgenode serve --pool` processes (one per node, joined
/// by a real broker, on loopback or each in its own network namespace behind veth), the leader's plan spreading the
/// layers over all of them, and the same checkpoint converted at the same precision running solo in this process with
/// the same threads. Solo and each hidden-state encoding take turns within every round (so a shared machine's
/// drifting load slows them alike) and the fastest round counts; then N sessions at once for the aggregate rate.
/// </summary>
internal static class PoolBenchmark
{
    private const double TargetPerHopMs = 0.3;
    private const double TargetConcurrency = 0.8;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    public static async Task<PoolBenchReport> RunAsync(PoolBenchOptions options, TextWriter log)
    {
        var source = CheckpointSource.Open(options.Model, null);
        if (source.Format != "llama2.c")
            throw new ArgumentException($"bench --pool needs a llama2.c checkpoint (a .bin with its tokenizer beside it, or its folder): pool nodes build their slices from it; {options.Model} is {source.Format}");
        var config = CheckpointReader.ReadConfig(source.CheckpointPath);
        if (options.Nodes > config.Layers)
            throw new ArgumentException($"--nodes {options.Nodes} is more than {source.Name}'s {config.Layers} layers: every node needs at least one layer; use --nodes {config.Layers} or fewer");
        var encodings = options.Encodings.Select(HiddenEncodingNames.Parse).ToList();

        var scratch = Directory.CreateTempSubdirectory("edgenode-pool-bench-");
        try
        {
            var tokenizer = source.TokenizerPath(scratch.FullName);
            var servable = ModelSizes.Servable(source.Name, config, options.Precision, new FileInfo(tokenizer).Length, "");
            var (budgets, expected) = options.NodeMemory is { } given
                ? PoolBudgets.AsGiven(servable, [.. given])
                : PoolBudgets.ForEveryNode(servable, options.Nodes);

            // Solo first: converting the checkpoint is CPU work that must not overlap the nodes' slice building.
            log.WriteLine($"edgenode bench --pool: solo: {source.Name} at {options.Precision.ToName()}, {options.Threads} thread(s), in this process");
            var folder = ModelResolver.Resolve(options.Model, null, options.Precision, new ConversionOptions { Precision = options.Precision }, log);
            var runtime = new InferenceRuntime(new InferenceOptions { Threads = options.Threads });
            using var local = LocalModel.Load(runtime, folder);

            using var lab = options.Veth ? NetworkLab.Create(options.Nodes) : null;
            var nodes = new List<PoolServeProcess>();
            // Ctrl-C ends this process without its finally blocks: the nodes (in this process group) get the signal
            // too, but the namespaces and the bridge would stay behind.
            using var interrupted = lab is null ? null : PosixSignalRegistration.Create(PosixSignal.SIGINT, _ =>
            {
                log.WriteLine("edgenode bench --pool: interrupted: removing the network namespaces");
                lock (nodes)
                    Parallel.ForEach(nodes, n => n.Dispose());
                lab.Dispose();
            });
            try
            {
                var started = StartNodes(options, lab, budgets, scratch.FullName, nodes, log);
                var epoch = WaitForPlan(nodes, options.NodeMemory is null ? expected : null, options.PlanTimeout, log);
                var entryIndex = nodes.FindIndex(n => n.Serving!.Value.Embed);
                var entry = $"{started.Addresses[entryIndex]}:{started.DataPorts[entryIndex]}";
                log.WriteLine($"edgenode bench --pool: plan epoch {epoch}: " + string.Join(" -> ", nodes.Select(n => $"{n.NodeId} [{n.Serving!.Value.FirstLayer},{n.Serving.Value.EndLayer})")) + $"; entry {entry}");

                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", started.ApiKey);
                await using var client = await PoolClient.ConnectAsync(entry, TimeSpan.FromMinutes(5)).ConfigureAwait(false);
                var report = await MeasureAsync(options, encodings, local, client, nodes, http, log).ConfigureAwait(false);

                report.Label = options.Label ?? source.Name;
                report.Model = source.Name;
                report.Checkpoint = Path.GetFullPath(source.CheckpointPath);
                report.Precision = options.Precision.ToName();
                report.Dim = config.Dim;
                report.Layers = config.Layers;
                report.Vocab = config.VocabSize;
                report.Nodes = options.Nodes;
                report.ThreadsPerNode = options.Threads;
                report.Cores = Environment.ProcessorCount;
                report.Net = options.Veth ? "veth" : "loopback";
                report.Broker = options.Broker ?? $"embedded on {PoolBudgets.NodeId(0)}";
                report.Prompt = options.Prompt;
                report.TokensRequested = options.Tokens;
                report.Rounds = options.Rounds;
                report.Plan = new PoolBenchPlan
                {
                    Epoch = epoch,
                    ModelBytes = ModelSizes.Whole(servable),
                    Hops = [.. nodes.Select((n, i) => new PoolBenchHop
                    {
                        NodeId = n.NodeId, FirstLayer = n.Serving!.Value.FirstLayer, EndLayer = n.Serving.Value.EndLayer,
                        Embed = n.Serving.Value.Embed, Head = n.Serving.Value.Head, MaxMemoryBytes = budgets[i],
                        Address = $"{started.Addresses[i]}:{started.DataPorts[i]}",
                    }).OrderBy(h => h.FirstLayer)],
                };
                report.Targets = new PoolBenchTargets
                {
                    PerHopOverheadMs = TargetPerHopMs,
                    Int8BytesPerTokenPerHop = Math.Round(1.1 * config.Dim + FrameHeader.Size, 1),
                    ConcurrencyRatio = TargetConcurrency,
                    AnchorRatio = PoolAnchors.TargetRatio,
                };
                report.Anchors = Anchors(report);
                return report;
            }
            finally
            {
                if (nodes.Count > 0)
                    log.WriteLine($"edgenode bench --pool: stopping {nodes.Count} nodes");
                lock (nodes)
                    Parallel.ForEach(nodes, n => n.Dispose());
            }
        }
        finally
        {
            try { scratch.Delete(recursive: true); } catch (IOException) { }
        }
    }

    private sealed record StartedNodes(string[] Addresses, int[] DataPorts, string ApiKey);

    private static StartedNodes StartNodes(PoolBenchOptions options, NetworkLab? lab, long[] budgets, string scratch, List<PoolServeProcess> nodes, TextWriter log)
    {
        var pool = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var addresses = new string[options.Nodes];
        var ports = new int[options.Nodes];
        string? broker = options.Broker;
        for (var i = 0; i < options.Nodes; i++)
        {
            var host = lab?.Hosts[i];
            addresses[i] = host?.Address ?? IPAddress.Loopback.ToString();
            // In its own namespace every node may use the default port; side by side on loopback each needs its own
            // pair (data plane N, slice server N + 1).
            ports[i] = host is null ? FreePortPair() : 7470;
            var id = PoolBudgets.NodeId(i);
            var home = Path.Combine(scratch, id);
            Directory.CreateDirectory(home);
            List<string> args =
            [
                "--model", options.Model, "--pool", pool, "--node-id", id,
                "--max-memory", budgets[i].ToString(CultureInfo.InvariantCulture),
                "--threads", options.Threads.ToString(CultureInfo.InvariantCulture),
                "--precision", options.Precision.ToName(),
                "--data-port", ports[i].ToString(CultureInfo.InvariantCulture),
                "--listen", $"{addresses[i]}:0",
                "--broker", broker ?? "embedded",
            ];
            var where = host is null ? "on loopback" : $"in {host}";
            log.WriteLine($"edgenode bench --pool: starting node {id} {where} (--max-memory {budgets[i]}, broker {broker ?? "embedded here"})");
            var node = PoolServeProcess.Start(options.Binary, host, id, args, new Dictionary<string, string> { ["EDGENODE_HOME"] = home, ["EDGENODE_API_KEYS"] = key });
            lock (nodes)
                nodes.Add(node);
            if (broker is null)
            {
                // The others join through node 0's broker: it must listen first.
                node.WaitForListening(StartTimeout);
                broker = $"mqtt://{addresses[0]}:1883";
            }
        }
        foreach (var node in nodes)
            node.WaitForListening(StartTimeout);
        return new StartedNodes(addresses, ports, key);
    }

    /// <summary>A port P with P and P + 1 both free on loopback now (the node binds them a moment later).</summary>
    private static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            first.Bind(new IPEndPoint(IPAddress.Any, 0));
            var port = ((IPEndPoint)first.LocalEndPoint!).Port;
            if (port >= 65535)
                continue;
            using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                second.Bind(new IPEndPoint(IPAddress.Any, port + 1));
                return port;
            }
            catch (SocketException)
            {
                // taken: try another
            }
        }
        throw new IOException("no two adjacent free TCP ports found for a node's data plane and slice server");
    }

    /// <summary>Waits until every node serves one epoch with the slice the expected plan gives it; relays slice-building progress.</summary>
    /// <param name="expected">The ranges each node must get; null (budgets as given, where the nodes' measured speed also moves
    /// the ranges): any plan that serves every node.</param>
    private static long WaitForPlan(List<PoolServeProcess> nodes, PoolPlan? expected, TimeSpan timeout, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var lastProgress = TimeSpan.Zero;
        log.WriteLine($"edgenode bench --pool: waiting for the leader's plan over {nodes.Count} nodes (each builds its slice from the checkpoint)");
        while (clock.Elapsed < timeout)
        {
            if (nodes.FirstOrDefault(n => n.HasExited) is { } dead)
                throw new InvalidOperationException($"pool node {dead.NodeId} exited before serving: {dead.Tail()}");
            if (nodes.FirstOrDefault(n => n.Refusal is not null) is { } refusing)
                throw new InvalidOperationException($"pool node {refusing.NodeId} refused its slice: {refusing.Refusal}");
            var serving = nodes.Select(n => n.Serving).ToList();
            if (serving.All(s => s is not null) && serving.Select(s => s!.Value.Epoch).Distinct().Count() == 1)
            {
                if (expected is not null)
                    CheckRanges(nodes, serving, expected);
                return serving[0]!.Value.Epoch;
            }
            if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(5))
            {
                lastProgress = clock.Elapsed;
                foreach (var node in nodes)
                {
                    if (node.TakeBuildingProgress() is { } building)
                        log.WriteLine($"edgenode bench --pool: {node.NodeId}: {building}");
                }
                var ready = serving.Count(s => s is not null);
                log.WriteLine($"edgenode bench --pool: {ready}/{nodes.Count} nodes serving after {clock.Elapsed.TotalSeconds:F0} s");
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"the nodes did not all serve one plan within {timeout.TotalMinutes:F0} min: " + string.Join("; ", nodes.Select(n => $"{n.NodeId}: {n.Tail(2)}")));
    }

    private static void CheckRanges(List<PoolServeProcess> nodes, List<ServedSlice?> serving, PoolPlan expected)
    {
        foreach (var (node, slice) in nodes.Zip(serving))
        {
            var want = expected.Assignments.First(a => a.NodeId == node.NodeId);
            if (slice!.Value.FirstLayer != want.FirstLayer || slice.Value.EndLayer != want.EndLayer)
                throw new InvalidOperationException($"the leader gave {node.NodeId} layers [{slice.Value.FirstLayer},{slice.Value.EndLayer}), not [{want.FirstLayer},{want.EndLayer}) as the bench planned; the pool may hold other nodes (another bench or serve with the same pool name?)");
        }
    }

    private static async Task<PoolBenchReport> MeasureAsync(PoolBenchOptions options, List<(HiddenEncoding Encoding, bool Zstd)> encodings, LocalModel local,
        PoolClient client, List<PoolServeProcess> nodes, HttpClient http, TextWriter log)
    {
        var generator = new TextGenerator(local);
        var soloRounds = new List<double>();
        int[] soloTokens = [];
        var rounds = encodings.Select(_ => new List<double>()).ToArray();
        var tokens = new int[encodings.Count][];
        var frames = new long[encodings.Count];
        var bytes = new long[encodings.Count];
        // Round 0 warms up (JIT tiers, runtime arenas, TCP windows) and does not count.
        for (var r = 0; r <= options.Rounds; r++)
        {
            var counted = r > 0;
            log.WriteLine($"edgenode bench --pool: round {r}/{options.Rounds}{(counted ? "" : " (warm-up)")}: solo, then " + string.Join(", ", options.Encodings));
            var solo = generator.Generate(options.Prompt, new GenerationOptions { MaxTokens = options.Tokens, Sampling = SamplingOptions.Greedy });
            soloTokens = solo.Tokens;
            if (counted && solo.Tokens.Length > 1)
                soloRounds.Add(solo.Decode.TotalMilliseconds / (solo.Tokens.Length - 1));
            for (var e = 0; e < encodings.Count; e++)
            {
                var before = await CountersAsync(http, nodes).ConfigureAwait(false);
                var result = await client.GenerateAsync(new PoolRequest
                {
                    Prompt = options.Prompt, MaxTokens = options.Tokens, Sampling = SamplingOptions.Greedy,
                    Encoding = encodings[e].Encoding, Zstd = encodings[e].Zstd,
                }).ConfigureAwait(false);
                var after = await CountersAsync(http, nodes).ConfigureAwait(false);
                tokens[e] = result.Tokens;
                if (!counted)
                    continue;
                frames[e] += after.Frames - before.Frames;
                bytes[e] += after.Bytes - before.Bytes;
                if (result.Tokens.Length > 1)
                    rounds[e].Add(result.Decode.TotalMilliseconds / (result.Tokens.Length - 1));
            }
        }

        // A run that stopped at its first token (end of text) has no decode time: 0, and the table shows it.
        var soloMs = soloRounds.Count == 0 ? 0 : soloRounds.Min();
        var hops = nodes.Count;
        var rows = new List<PoolBenchEncodingRow>();
        for (var e = 0; e < encodings.Count; e++)
        {
            var ms = rounds[e].Count == 0 ? 0 : rounds[e].Min();
            var agree = 0;
            while (agree < Math.Min(tokens[e].Length, soloTokens.Length) && tokens[e][agree] == soloTokens[agree])
                agree++;
            rows.Add(new PoolBenchEncodingRow
            {
                Encoding = options.Encodings[e],
                MsPerToken = Math.Round(ms, 3),
                TokS = ms > 0 ? Math.Round(1000 / ms, 1) : 0,
                PerHopOverheadMs = Math.Round((ms - soloMs) / hops, 3),
                BytesPerTokenPerHop = frames[e] == 0 ? 0 : Math.Round((double)bytes[e] / frames[e], 1),
                DecodeFrames = frames[e],
                Tokens = tokens[e].Length,
                RoundsMsPerToken = [.. rounds[e].Select(v => Math.Round(v, 3))],
                TokenIds = tokens[e],
                AgreeingTokens = agree,
                EqualsSolo = agree == soloTokens.Length && agree == tokens[e].Length,
            });
        }

        // N sessions at once share the chain: a chain is a pipeline, so one session's step can run on one node while
        // another's runs on the next, as far as the cores allow.
        var concurrency = new List<PoolBenchConcurrencyRow>();
        double single = 0;
        foreach (var sessions in options.Sessions)
        {
            // The fastest of --rounds bursts counts, as for the single runs: a burst is short and a shared machine noisy.
            var wall = double.MaxValue;
            var generated = 0;
            for (var r = 0; r < options.Rounds; r++)
            {
                log.WriteLine($"edgenode bench --pool: {sessions} session(s) at once, round {r + 1}/{options.Rounds}");
                var clock = Stopwatch.StartNew();
                var results = await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => client.GenerateAsync(new PoolRequest
                {
                    Prompt = options.Prompt, MaxTokens = options.Tokens, Sampling = SamplingOptions.Greedy, Encoding = HiddenEncoding.Fp16,
                }))).ConfigureAwait(false);
                var seconds = clock.Elapsed.TotalSeconds;
                var count = results.Sum(x => x.Tokens.Length);
                if (count / seconds > generated / wall)
                {
                    wall = seconds;
                    generated = count;
                }
            }
            var rate = generated / wall;
            if (sessions == 1 || single == 0)
                single = rate / sessions;
            var parallel = Math.Min(Math.Min(sessions, nodes.Count), Math.Max(1.0, (double)Environment.ProcessorCount / options.Threads));
            concurrency.Add(new PoolBenchConcurrencyRow
            {
                Sessions = sessions,
                Tokens = generated,
                WallSeconds = Math.Round(wall, 3),
                AggregateTokS = Math.Round(rate, 1),
                RatioToNSingle = Math.Round(rate / (sessions * single), 3),
                CoreBound = Math.Round(parallel / sessions, 3),
            });
        }

        return new PoolBenchReport
        {
            StartedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            Solo = new PoolBenchSolo
            {
                MsPerToken = Math.Round(soloMs, 3),
                TokS = soloMs > 0 ? Math.Round(1000 / soloMs, 1) : 0,
                Tokens = soloTokens.Length,
                RoundsMsPerToken = [.. soloRounds.Select(v => Math.Round(v, 3))],
                TokenIds = soloTokens,
            },
            FrameHeaderBytes = FrameHeader.Size,
            Hops = hops,
            Encodings = rows,
            Concurrency = concurrency,
        };
    }

    /// <summary>The nodes' decode frames and bytes sent so far, summed (GET /v1/pool/node on each).</summary>
    private static async Task<(long Frames, long Bytes)> CountersAsync(HttpClient http, List<PoolServeProcess> nodes)
    {
        long frames = 0, bytes = 0;
        foreach (var node in nodes)
        {
            var text = await http.GetStringAsync(node.Url.TrimEnd('/') + "/v1/pool/node").ConfigureAwait(false);
            var counters = JsonSerializer.Deserialize(text, PoolNodeJsonContext.Default.PoolNodeCounters)
                ?? throw new InvalidOperationException($"{node.NodeId} answered /v1/pool/node with {text}");
            frames += counters.DecodeFramesSent;
            bytes += counters.DecodeBytesSent;
        }
        return (frames, bytes);
    }

    private static PoolBenchAnchors Anchors(PoolBenchReport r)
    {
        var comparable = PoolAnchors.Matches(r.Nodes, r.ThreadsPerNode, r.Dim, r.Layers, r.Vocab, r.Precision);
        var best = r.Encodings.Where(e => e.TokS > 0).MaxBy(e => e.TokS);
        return new PoolBenchAnchors
        {
            Configuration = PoolAnchors.Configuration,
            Provenance = PoolAnchors.Provenance,
            Comparable = comparable,
            PoolEncoding = best?.Encoding ?? "",
            PoolTokS = best?.TokS ?? 0,
            Rows = [.. PoolAnchors.All.Select(a => new PoolBenchAnchorRow
            {
                Engine = a.Engine,
                DecodeTokS = a.DecodeTokS,
                Ratio = comparable && best is not null ? Math.Round(best.TokS / a.DecodeTokS, 2) : null,
            })],
        };
    }
}
