using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Planning;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode bench --speculative --pool-nodes N`: one stream's speed when a pool chain verifies drafts. --model is
/// split into N contiguous layer ranges, each run by an in-process chain node on loopback TCP; the rows are the model
/// alone (solo, the baseline), the pool without drafts (one trip round the ring per token), the pool's verify path
/// with no drafts, and the pool verifying k drafts per pass: the --draft model, n-gram lookup, and the simulated
/// acceptances of --alphas (random weights at a realistic shape have no real drafter); and the real drafters verified
/// by the model alone. Greedy; rows that draft for real must give the plain run's very tokens (checked and reported:
/// on random weights they may not, see <see cref="PlaceholderDrafter"/>). Every configuration takes its turn in each of
/// two rounds after a warm-up round; the best round of each counts.
/// </summary>
public static partial class BenchCommand
{
    private const int PoolBenchRepeats = 2;

    private static int RunSpeculativePool(ArgumentReader args, int poolNodes)
    {
        var model = args.Required("model", "<checkpoint|dir> (the llama2.c checkpoint the pool serves)");
        var tokenizerArg = args.String("tokenizer");
        var (conversion, requested) = ConversionArguments.Read(args);
        var draftPath = args.String("draft");
        var tokens = args.Int("tokens", 128, 2, 8192);
        var alphas = args.String("alphas") is { } a ? Numbers(a, "--alphas") : [];
        var label = args.String("label");
        var jsonOut = args.String("json-out");
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        if (alphas.Any(x => x is < 0 or > 1))
            throw new UsageException("--alphas are acceptance probabilities: each 0..1");
        var log = Console.Error;
        // One thread per node by default: the nodes of a real pool are separate boards; here they share the cores.
        var threads = inference.Threads > 0 ? inference.Threads : 1;
        var precision = requested ?? WeightPrecision.Fp32;

        var (checkpoint, tokenizerPath) = CheckpointOf(model, tokenizerArg);
        var config = Models.Llama2cCheckpoint.ReadConfig(checkpoint);
        if (poolNodes > config.Layers)
            throw new UsageException($"--pool-nodes {poolNodes}: the model has only {config.Layers} layers to split");
        var ranges = Enumerable.Range(0, poolNodes).Select(i => (i * config.Layers / poolNodes, (i + 1) * config.Layers / poolNodes)).ToArray();
        var name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(checkpoint))) ?? "model";
        var folder = Path.Combine(Path.GetTempPath(), $"edgenode-bench-pool-{Sanitize(name)}-{poolNodes}-{precision.ToString().ToLowerInvariant()}");
        if (!File.Exists(Path.Combine(folder, "manifest.json")))
        {
            log.WriteLine($"edgenode bench: converting {checkpoint} into {poolNodes} layer ranges at {folder}");
            ModelConverter.Convert(checkpoint, tokenizerPath, folder, conversion with { LayerRanges = ranges, Name = name, Precision = precision });
        }
        var runtime = new InferenceRuntime(inference with { Threads = threads });
        using var local = LocalModel.Load(runtime, folder);
        var tokenizer = local.Tokenizer;
        var prompt = tokenizer.Encode("Once upon a time");
        tokens = Math.Min(tokens, local.Config.MaxSeqLen - prompt.Length - DataPlaneLimits.MaxDraftTokens - 1);
        var context = Math.Min(local.Config.MaxSeqLen, prompt.Length + tokens + DataPlaneLimits.MaxDraftTokens + 1);
        var options = new GenerationOptions { MaxTokens = tokens, Sampling = SamplingOptions.Greedy, ContextLength = context };
        LocalModel? draftModel = draftPath is null ? null
            : LocalModel.Load(runtime, ModelResolver.Resolve(draftPath, tokenizerArg, null, conversion with { Precision = WeightPrecision.Fp32 }, log), tokenizerArg);

        var rows = new List<PoolSpeculativeBenchRow>();
        var nodes = new List<ChainNode>();
        try
        {
            for (var i = 0; i < poolNodes; i++)
            {
                var node = new ChainNode(new ChainNodeOptions { ModelFolder = folder, Runtime = runtime, ListenAddress = IPAddress.Loopback });
                nodes.Add(node);
                node.Start();
            }
            var plan = new PoolPlan("bench", name, 1, [.. ranges.Select((r, i) => new SliceAssignment(
                $"node-{i + 1}", r.Item1, r.Item2, i == 0, i == poolNodes - 1, $"127.0.0.1:{nodes[i].Port}"))]);
            for (var i = 0; i < poolNodes; i++)
                nodes[i].ApplyPlan(plan, plan.Assignments[i].NodeId).GetAwaiter().GetResult();
            var client = PoolClient.ConnectAsync(plan.Assignments[0].DataEndpoint).GetAwaiter().GetResult();
            try
            {
                // Every configuration takes its turn within each round, so a machine whose load changes during the
                // run (other builds share these cores) slows them alike; the best round of each counts, and round -1
                // (JIT tiers, ORT arenas, page cache) does not count at all.
                var configs = new List<(string Chain, string Drafter, string Mode, Func<(double TokS, int[] Tokens, SpeculativeResult? Speculative)> Run)>();
                var pool = $"pool {poolNodes}";
                configs.Add(("solo", "none", "plain", () =>
                {
                    var result = new TextGenerator(local).Generate(prompt, options);
                    return (result.Tokens.Length / (result.Prefill + result.Decode).TotalSeconds, result.Tokens, null);
                }));
                configs.Add((pool, "none", "plain", () =>
                {
                    var clock = Stopwatch.StartNew();
                    var result = client.GenerateAsync(new PoolRequest
                    {
                        Prompt = "Once upon a time", MaxTokens = tokens, Sampling = SamplingOptions.Greedy, Encoding = HiddenEncoding.Fp16, ContextLength = context,
                    }).GetAwaiter().GetResult();
                    return (result.Tokens.Length / clock.Elapsed.TotalSeconds, result.Tokens, null);
                }));
                (double, int[], SpeculativeResult?) ThroughPool(Func<IDrafter> make, int? fixedLength, double? alpha)
                {
                    using var drafter = make();
                    using var verifier = client.CreateVerifierSession(new PoolVerifierOptions
                    {
                        Sampling = SamplingOptions.Greedy, Encoding = HiddenEncoding.Fp16, ContextLength = context, BenchmarkAcceptance = alpha,
                    });
                    var result = new SpeculativeGenerator(tokenizer).Generate(prompt, options, drafter, verifier, new DraftLengthController(DataPlaneLimits.MaxDraftTokens, fixedLength));
                    return (result.TokensPerSecond, result.Generation.Tokens, result);
                }
                configs.Add((pool, "none", "verify k=0", () => ThroughPool(() => new NGramDrafter(), 0, null)));
                var drafters = new List<(string Name, Func<IDrafter> Make, double? Alpha)>();
                if (draftModel is not null)
                {
                    // A llama2.c folder's checkpoint is often just "model.bin": the folder names it better.
                    var draftId = ServedModelFolder.IdOf(draftPath!);
                    var draftName = "model:" + (draftId == "model" && File.Exists(draftPath) ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(draftPath))) : draftId);
                    drafters.Add((draftName, () => new ModelDrafter(draftModel, SamplingOptions.Greedy, context, draftName), null));
                }
                drafters.Add(("ngram", () => new NGramDrafter(), null));
                foreach (var alpha in alphas)
                    drafters.Add(($"α={alpha:0.##}", () => new PlaceholderDrafter(alpha), alpha));
                // The real drafters verified by the model alone (one node, no network), k fixed: what the pool adds or costs.
                foreach (var (drafterName, make, _) in drafters.Where(d => d.Alpha is null))
                {
                    configs.Add(("solo", drafterName, $"k={FixedDraftLength}", () =>
                    {
                        using var drafter = make();
                        using var verifier = new LocalVerifierSession(local, SamplingOptions.Greedy, context, DataPlaneLimits.MaxDraftTokens);
                        var result = new SpeculativeGenerator(tokenizer).Generate(prompt, options, drafter, verifier, new DraftLengthController(DataPlaneLimits.MaxDraftTokens, FixedDraftLength));
                        return (result.TokensPerSecond, result.Generation.Tokens, result);
                    }));
                }
                foreach (var (drafterName, make, alpha) in drafters)
                {
                    foreach (var fixedLength in new int?[] { null, FixedDraftLength })
                        configs.Add((pool, drafterName, fixedLength is { } k ? $"k={k}" : "auto", () => ThroughPool(make, fixedLength, alpha)));
                }

                var best = new (double TokS, int[] Tokens, SpeculativeResult? Speculative)[configs.Count];
                for (var round = -1; round < PoolBenchRepeats; round++)
                {
                    for (var i = 0; i < configs.Count; i++)
                    {
                        var x = configs[i].Run();
                        if (round >= 0 && x.TokS > best[i].TokS)
                            best[i] = x;
                    }
                    log.WriteLine($"edgenode bench: round {round + 2}/{PoolBenchRepeats + 1} of {configs.Count} configurations done");
                }
                var solo = best[0];
                var poolPlain = best[1];
                for (var i = 0; i < configs.Count; i++)
                {
                    var (where, drafterName, mode, _) = configs[i];
                    var (tokS, output, speculative) = best[i];
                    var row = new PoolSpeculativeBenchRow
                    {
                        Chain = where, Drafter = drafterName, DraftLengthMode = mode, Tokens = output.Length, TokS = Math.Round(tokS, 2),
                        VsSolo = Math.Round(tokS / solo.TokS, 2), VsPoolPlain = Math.Round(tokS / poolPlain.TokS, 2),
                        AcceptRate = Math.Round(speculative?.AcceptRate ?? 0, 3), TokensPerRound = Math.Round(speculative?.TokensPerRound ?? 1, 2),
                        DraftLength = Math.Round(speculative?.DraftLength ?? 0, 2),
                        SameTokens = drafterName.StartsWith('α') ? null : output.AsSpan().SequenceEqual(where == "solo" ? solo.Tokens : poolPlain.Tokens),
                    };
                    rows.Add(row);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"edgenode bench: {where} {drafterName} {mode}: {row.TokS:F1} tok/s ({row.VsSolo:F2}× solo, {row.VsPoolPlain:F2}× pool plain), accept {row.AcceptRate:P0}, {row.TokensPerRound:F2} tokens/round, k {row.DraftLength:F1}"));
                }
            }
            finally
            {
                client.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        finally
        {
            foreach (var node in nodes)
                node.DisposeAsync().AsTask().GetAwaiter().GetResult();
            draftModel?.Dispose();
        }

        var report = new PoolSpeculativeBenchReport
        {
            Model = label ?? name, Checkpoint = checkpoint, Precision = precision.ToString().ToLowerInvariant(),
            Dim = local.Config.Dim, Layers = local.Config.Layers, Vocab = local.Config.VocabSize,
            Nodes = poolNodes, LayerRanges = [.. ranges.Select(r => $"{r.Item1}:{r.Item2}")], ThreadsPerNode = threads, Tokens = tokens,
            Hidden = "fp16", Draft = draftPath, Rows = rows, Processors = Environment.ProcessorCount,
            Note = $"greedy, one stream; the {poolNodes} nodes, the client's drafter and solo share this machine's {Environment.ProcessorCount} cores " +
                   "(in-process nodes on loopback TCP); α rows simulate acceptance on the last node (the pass, rollback and bytes are real, the text is not the target's)",
        };
        jsonOut ??= $"bench-speculative-pool{poolNodes}-{Sanitize(name)}.json";
        File.WriteAllText(jsonOut, JsonSerializer.Serialize(report, PoolSpeculativeBenchJsonContext.Default.PoolSpeculativeBenchReport));
        PrintSpeculativePool(report);
        Console.Out.WriteLine($"json: {jsonOut}");
        return rows.All(x => x.SameTokens != false) ? 0 : 1;
    }

    /// <summary>A llama2.c checkpoint and its tokenizer from --model (the file, or a folder with model.bin) and --tokenizer.</summary>
    private static (string Checkpoint, string Tokenizer) CheckpointOf(string model, string? tokenizer)
    {
        var checkpoint = File.Exists(model) ? model : Path.Combine(model, "model.bin");
        if (!File.Exists(checkpoint))
            throw new UsageException($"--model {model}: --pool-nodes splits a llama2.c checkpoint (a .bin, or a folder holding model.bin); none found");
        var folder = Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
        tokenizer ??= new[] { "tokenizer.bin", "tok512.bin" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists)
            ?? throw new UsageException($"no tokenizer.bin or tok512.bin beside {checkpoint}: pass --tokenizer");
        return (checkpoint, tokenizer);
    }

    private static void PrintSpeculativePool(PoolSpeculativeBenchReport r)
    {
        var o = Console.Out;
        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Model} ({r.Precision}, dim {r.Dim}, {r.Layers} layers) split over {r.Nodes} pool nodes ({string.Join(", ", r.LayerRanges)}), {r.ThreadsPerNode} thread(s) per node, {r.Tokens} tokens greedy, hidden {r.Hidden}"));
        o.WriteLine("| chain | drafter | k | tok/s | × solo | × pool plain | accept | tokens/round | mean k | same tokens |");
        o.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var x in r.Rows)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {x.Chain} | {x.Drafter} | {x.DraftLengthMode} | {x.TokS:F1} | {x.VsSolo:F2} | {x.VsPoolPlain:F2} | {x.AcceptRate:P0} | {x.TokensPerRound:F2} | {x.DraftLength:F1} | {(x.SameTokens is { } same ? same ? "yes" : "NO" : "n/a (simulated α)")} |"));
        }
        o.WriteLine(r.Note);
    }
}

public sealed class PoolSpeculativeBenchReport
{
    public required string Model { get; init; }
    public required string Checkpoint { get; init; }
    public required string Precision { get; init; }
    public int Dim { get; init; }
    public int Layers { get; init; }
    public int Vocab { get; init; }
    public int Nodes { get; init; }
    public required List<string> LayerRanges { get; init; }
    public int ThreadsPerNode { get; init; }
    public int Processors { get; init; }
    public int Tokens { get; init; }
    public required string Hidden { get; init; }
    public string? Draft { get; init; }
    public required List<PoolSpeculativeBenchRow> Rows { get; init; }
    public required string Note { get; init; }
}

public sealed class PoolSpeculativeBenchRow
{
    /// <summary>"solo" or "pool N".</summary>
    public required string Chain { get; init; }
    public required string Drafter { get; init; }
    public required string DraftLengthMode { get; init; }
    public int Tokens { get; init; }
    public double TokS { get; init; }
    public double VsSolo { get; init; }
    public double VsPoolPlain { get; init; }
    public double AcceptRate { get; init; }
    public double TokensPerRound { get; init; }
    public double DraftLength { get; init; }

    /// <summary>The plain pool's tokens exactly (null for simulated acceptance, whose text is not the target's).</summary>
    public bool? SameTokens { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PoolSpeculativeBenchReport))]
internal sealed partial class PoolSpeculativeBenchJsonContext : JsonSerializerContext;
