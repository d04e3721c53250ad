using System.Globalization;
using System.Net;
using System.Text;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Pool.Bench;

/// <summary>What <see cref="ChainBenchmark"/> runs.</summary>
public sealed record ChainBenchmarkOptions
{
    /// <summary>A converted folder with one layer slice per hop (ModelConverter with LayerRanges): each becomes a node.</summary>
    public required string ModelFolder { get; init; }

    public required InferenceRuntime Runtime { get; init; }

    public string Prompt { get; init; } = "Once upon a time";

    /// <summary>Tokens to decode per run (greedy; a run may stop earlier at end of text).</summary>
    public int Tokens { get; init; } = 128;

    /// <summary>Runs per configuration; the fastest counts (the others absorb warm-up and noise).</summary>
    public int Repeats { get; init; } = 3;

    public IReadOnlyList<string> Encodings { get; init; } = ["fp32", "fp16", "int8", "int8+zstd"];

    /// <summary>Sessions run at once for the aggregate rate (fp16 hidden states); empty to skip.</summary>
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 2, 4, 8];

    public IProgress<string>? Progress { get; init; }
}

/// <summary>
/// Pool against solo on the same weights in one run: the model's layer slices run in memory (local solo), then as a
/// chain of in-process nodes on loopback TCP, one node per layer slice, for each hidden-state encoding. Reports the
/// per-hop overhead ((pool - solo) time per token / hops) and the bytes a decode step puts on each hop.
/// </summary>
public static class ChainBenchmark
{
    public static async Task<ChainBenchmarkReport> RunAsync(ChainBenchmarkOptions options)
    {
        var manifest = ModelManifest.Load(options.ModelFolder);
        var config = manifest.ToLlamaConfig();
        var layers = manifest.Slices.Where(s => !s.Embed && !s.Head).OrderBy(s => s.FirstLayer).ToList();
        var hops = layers.Count;

        options.Progress?.Report($"{manifest.Name}: {config.Layers} layers in {hops} slices; solo and {hops} loopback nodes take turns, {options.Tokens} tokens x {options.Repeats}");
        var encodings = options.Encodings.Select(HiddenEncodingNames.Parse).ToList();
        var soloMs = double.MaxValue;
        var soloTokens = 0;
        var best = Enumerable.Repeat(double.MaxValue, encodings.Count).ToArray();
        var tokens = new int[encodings.Count];
        var frames = new long[encodings.Count];
        var bytes = new long[encodings.Count];
        var nodes = new List<ChainNode>();
        var concurrency = new List<PoolBenchConcurrencyRow>();
        using var local = LocalModel.Load(options.Runtime, options.ModelFolder);
        try
        {
            for (var i = 0; i < hops; i++)
            {
                var node = new ChainNode(new ChainNodeOptions { ModelFolder = options.ModelFolder, Runtime = options.Runtime, ListenAddress = IPAddress.Loopback });
                nodes.Add(node);
                node.Start();
            }
            var assignments = layers.Select((s, i) => new SliceAssignment($"bench-{i + 1}", s.FirstLayer, s.EndLayer, i == 0, i == hops - 1, $"127.0.0.1:{nodes[i].Port}")).ToList();
            var plan = new PoolPlan("bench", manifest.Name, 1, assignments);
            for (var i = 0; i < hops; i++)
                await nodes[i].ApplyPlan(plan, assignments[i].NodeId).ConfigureAwait(false);
            await using var client = await PoolClient.ConnectAsync(plan.Assignments[0].DataEndpoint).ConfigureAwait(false);
            var generator = new TextGenerator(local);

            // Solo and each encoding take turns within every round, so a machine whose load changes during the run
            // slows them alike; the fastest round of each counts. Round -1 warms up (JIT tiers, runtime arenas) and
            // does not count.
            for (var r = -1; r < options.Repeats; r++)
            {
                var solo = generator.Generate(options.Prompt, new GenerationOptions { MaxTokens = options.Tokens, Sampling = SamplingOptions.Greedy });
                if (r >= 0 && solo.Tokens.Length > 1)
                {
                    soloMs = Math.Min(soloMs, solo.Decode.TotalMilliseconds / (solo.Tokens.Length - 1));
                    soloTokens = solo.Tokens.Length;
                }
                for (var e = 0; e < encodings.Count; e++)
                {
                    var framesBefore = nodes.Sum(n => n.DecodeFramesSent);
                    var bytesBefore = nodes.Sum(n => n.DecodeBytesSent);
                    var result = await client.GenerateAsync(new PoolRequest
                    {
                        Prompt = options.Prompt, MaxTokens = options.Tokens, Sampling = SamplingOptions.Greedy,
                        Encoding = encodings[e].Encoding, Zstd = encodings[e].Zstd,
                    }).ConfigureAwait(false);
                    frames[e] += nodes.Sum(n => n.DecodeFramesSent) - framesBefore;
                    bytes[e] += nodes.Sum(n => n.DecodeBytesSent) - bytesBefore;
                    if (r >= 0 && result.Tokens.Length > 1)
                    {
                        best[e] = Math.Min(best[e], result.Decode.TotalMilliseconds / (result.Tokens.Length - 1));
                        tokens[e] = result.Tokens.Length;
                    }
                }
                options.Progress?.Report($"round {r + 2}/{options.Repeats + 1} done");
            }

            // Aggregate rate: N sessions at once share the chain; a chain is a pipeline, so while one session's step
            // is on one node another's can run on the next, as far as the cores allow.
            foreach (var sessions in options.Concurrency)
            {
                options.Progress?.Report($"pool: {sessions} sessions at once");
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var results = await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => client.GenerateAsync(new PoolRequest
                {
                    Prompt = options.Prompt, MaxTokens = options.Tokens, Sampling = SamplingOptions.Greedy, Encoding = HiddenEncoding.Fp16,
                }))).ConfigureAwait(false);
                var elapsed = clock.Elapsed.TotalSeconds;
                concurrency.Add(new PoolBenchConcurrencyRow
                {
                    Sessions = sessions,
                    Tokens = results.Sum(x => x.Tokens.Length),
                    WallSeconds = Math.Round(elapsed, 3),
                    AggregateTokS = Math.Round(results.Sum(x => x.Tokens.Length) / elapsed, 1),
                });
            }
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync().ConfigureAwait(false);
        }

        var rows = encodings.Select((e, i) => new PoolBenchEncodingRow
        {
            Encoding = options.Encodings[i],
            Tokens = tokens[i],
            MsPerToken = Math.Round(best[i], 3),
            TokS = Math.Round(1000 / best[i], 1),
            PerHopOverheadMs = Math.Round((best[i] - soloMs) / hops, 3),
            // Hidden hops only: the last hop carries a Token frame (header + 4 bytes) back to the entry.
            BytesPerTokenPerHop = frames[i] == 0 ? 0 : Math.Round((double)bytes[i] / frames[i], 1),
        }).ToList();

        return new ChainBenchmarkReport
        {
            Model = manifest.Name,
            Dim = config.Dim,
            Layers = config.Layers,
            Hops = hops,
            Threads = options.Runtime.Options.Threads,
            Transport = "in-process nodes over loopback TCP",
            Solo = new PoolBenchSolo { MsPerToken = Math.Round(soloMs, 3), TokS = Math.Round(1000 / soloMs, 1), Tokens = soloTokens },
            FrameHeaderBytes = FrameHeader.Size,
            Encodings = rows,
            Concurrency = concurrency,
        };
    }
}

/// <summary>
/// <see cref="ChainBenchmark"/>'s result: the chain's shape, then the rows `edgenode bench --pool` reports too (see
/// PoolBenchRows.cs); serialized by <see cref="PoolBenchJsonContext"/>.
/// </summary>
public sealed class ChainBenchmarkReport
{
    public string Model { get; set; } = "";
    public int Dim { get; set; }
    public int Layers { get; set; }
    public int Hops { get; set; }
    public int Threads { get; set; }
    public string Transport { get; set; } = "";
    public PoolBenchSolo Solo { get; set; } = new();
    public int FrameHeaderBytes { get; set; }
    public List<PoolBenchEncodingRow> Encodings { get; set; } = [];
    public List<PoolBenchConcurrencyRow> Concurrency { get; set; } = [];

    /// <summary>The table the bench prints.</summary>
    public string ToTable()
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"{Model} (dim {Dim}, {Layers} layers): {Hops} hops, {Transport}, {Threads} thread(s) per slice");
        text.AppendLine(inv, $"solo: {Solo.MsPerToken:F3} ms/token ({Solo.TokS:F1} tok/s)");
        text.AppendLine("| encoding | pool ms/token | pool tok/s | per-hop overhead ms | bytes/token/hop |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var r in Encodings)
            text.AppendLine(inv, $"| {r.Encoding} | {r.MsPerToken:F3} | {r.TokS:F1} | {r.PerHopOverheadMs:F3} | {r.BytesPerTokenPerHop:F1} |");
        text.AppendLine(inv, $"bytes/token/hop include the {FrameHeaderBytes}-byte frame header; int8 is dim + 4 = {Dim + 4} bytes of payload.");
        if (Concurrency.Count > 0)
        {
            var single = Concurrency.Find(c => c.Sessions == 1)?.AggregateTokS ?? 0;
            text.AppendLine("| sessions at once (fp16) | tokens | aggregate tok/s | / (N x 1 session) |");
            text.AppendLine("| ---: | ---: | ---: | ---: |");
            foreach (var c in Concurrency)
                text.AppendLine(inv, $"| {c.Sessions} | {c.Tokens} | {c.AggregateTokS:F1} | {(single > 0 ? c.AggregateTokS / (c.Sessions * single) : 0):F2} |");
        }
        return text.ToString();
    }
}
