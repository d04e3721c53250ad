using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Bench;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;
using EdgeNode.Verifier;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode bench --speculative`: speculative decoding against plain remote decoding (one round trip per token) over a
/// simulated WAN. It starts its own `edgenode serve` with --model as the target and puts a delay proxy in front of it
/// (round trips from --rtt); with --rate the verifier runs in a network namespace behind tc tbf at each rate. Rows: each
/// drafter (the --draft model, the target's int4 copy, n-gram lookup) with the adaptive draft length and a fixed one;
/// with --alphas the oracle drafter's speedup curve; then the verifier's capacity with and without drafts. Greedy
/// throughout, so every row must produce the plain run's very tokens (checked, and reported).
/// </summary>
public static partial class BenchCommand
{
    private const int FixedDraftLength = 4;
    private const int CapacityConcurrency = 4;

    private static int RunSpeculative(ArgumentReader args)
    {
        if (args.Int("pool-nodes", 0, 0, 64) is var poolNodes and > 0)
            return RunSpeculativePool(args, poolNodes);
        var model = args.Required("model", "<checkpoint|dir> (the target the verifier serves)");
        var tokenizerArg = args.String("tokenizer");
        var (conversion, requested) = ConversionArguments.Read(args);
        var draftPath = args.String("draft");
        var tokens = args.Int("tokens", 128, 2, 8192);
        var rtts = Numbers(args.String("rtt") ?? "0,20,50,100", "--rtt");
        var alphas = args.String("alphas") is { } a ? Numbers(a, "--alphas") : [];
        var rates = args.String("rate") is { } r ? Numbers(r, "--rate") : [];
        var sessions = args.Int("sessions", 16, 0, 100_000);
        var label = args.String("label");
        var jsonOut = args.String("json-out");
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        if (alphas.Any(x => x is < 0 or > 1))
            throw new UsageException("--alphas are acceptance probabilities: each 0..1");
        var log = Console.Error;
        var threads = inference.Threads > 0 ? inference.Threads : Environment.ProcessorCount;
        var precision = requested ?? WeightPrecision.Fp32;

        // The target is converted here once, so the verifier loads it at once and the drafts can share its tokenizer.
        var targetFolder = ModelResolver.Resolve(model, tokenizerArg, precision, conversion, log);
        var manifest = ModelManifest.Load(targetFolder);
        var config = manifest.ToLlamaConfig();
        var tokenizer = TextTokenizerLoader.Load(tokenizerArg ?? Path.Combine(targetFolder, manifest.Tokenizer), config.VocabSize);
        var fingerprint = TokenizerFingerprint.Of(tokenizer);
        var targetId = ServedModelFolder.IdOf(targetFolder);
        var name = label ?? manifest.Name;
        var prompt = tokenizer.Encode("Once upon a time");
        tokens = Math.Min(tokens, config.MaxSeqLen - prompt.Length - VerifierOptions.DefaultMaxDraftTokens - 1);

        var runtime = new InferenceRuntime(inference with { Threads = threads });
        var drafters = new List<(string Name, Func<IDrafter> Make)>();
        LocalModel? draftModel = null, selfInt4 = null;
        if (draftPath is not null)
        {
            draftModel = LocalModel.Load(runtime, ModelResolver.Resolve(draftPath, tokenizerArg, null, conversion with { Precision = WeightPrecision.Fp32 }, log), tokenizerArg);
            // A llama2.c folder's checkpoint is often just "model.bin": the folder names it better.
            var draftId = ServedModelFolder.IdOf(draftPath);
            var draftName = "model:" + (draftId == "model" && File.Exists(draftPath) ? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(draftPath))) : draftId);
            drafters.Add((draftName, () => new ModelDrafter(draftModel, SamplingOptions.Greedy, config.MaxSeqLen, draftName)));
            if (precision != WeightPrecision.Int4)
            {
                selfInt4 = LocalModel.Load(runtime, ModelResolver.Resolve(model, tokenizerArg, WeightPrecision.Int4, conversion with { Precision = WeightPrecision.Int4 }, log), tokenizerArg);
                drafters.Add(("self-int4", () => new ModelDrafter(selfInt4, SamplingOptions.Greedy, config.MaxSeqLen, "self-int4")));
            }
            drafters.Add(("ngram", () => new NGramDrafter()));
        }

        var rows = new List<SpeculativeBenchRow>();
        var capacity = new List<CapacityRow>();
        int[]? reference = null;
        var links = rates.Count == 0 ? [(double?)null] : rates.Select(x => (double?)x).ToList();
        WanNamespace? wan = rates.Count > 0 ? WanNamespace.Create() : null;
        const string apiKey = "sk-edgenode-bench-speculative";
        try
        {
            var serveArgs = new List<string>
            {
                "--listen", (wan is null ? "127.0.0.1" : WanNamespace.VerifierAddress) + ":0", "--model", targetFolder, "--threads", threads.ToString(CultureInfo.InvariantCulture),
                "--ip-rpm", "0", "--key-rpm", "0", "--max-queue", "1000",
            };
            log.WriteLine($"edgenode bench: starting the verifier (edgenode serve {targetId}){(wan is null ? "" : $" in network namespace {WanNamespace.Name}")}");
            using var serve = ServeChild.Start(serveArgs, new Dictionary<string, string> { ["EDGENODE_API_KEYS"] = apiKey }, wan is null ? null : WanNamespace.Name, TimeSpan.FromMinutes(2));
            var upstream = IPEndPoint.Parse(new Uri(serve.Url).Authority);
            // Warm-up, not measured: the verifier loads the target, both ends compile their hot paths, each drafter runs once.
            foreach (var make in drafters.Select(d => d.Make).Append(() => new NGramDrafter()))
            {
                using var drafter = make();
                using var session = new RemoteVerifierSession(serve.Url, targetId, fingerprint, SamplingOptions.Greedy, apiKey);
                new SpeculativeGenerator(tokenizer).Generate(prompt, new GenerationOptions { MaxTokens = 16, Sampling = SamplingOptions.Greedy }, drafter, session,
                    new DraftLengthController(VerifierOptions.DefaultMaxDraftTokens, 4));
            }
            foreach (var rate in links)
            {
                wan?.SetRate(rate);
                foreach (var rtt in rtts)
                {
                    var proxy = new DelayProxy(upstream, TimeSpan.FromMilliseconds(rtt / 2));
                    try
                    {
                        var link = rate is { } mbit ? $"{mbit:0.#} Mbit/s" : "loopback";
                        SpeculativeResult Measure(IDrafter drafter, DraftLengthController lengths, out double passesPerToken)
                        {
                            using var session = new RemoteVerifierSession(proxy.Url, targetId, fingerprint, SamplingOptions.Greedy, apiKey,
                                benchmarkAcceptance: drafter is PlaceholderDrafter placeholder ? placeholder.Alpha : null);
                            var before = session.Stats();
                            var result = new SpeculativeGenerator(tokenizer).Generate(prompt, new GenerationOptions { MaxTokens = tokens, Sampling = SamplingOptions.Greedy }, drafter, session, lengths);
                            var after = session.Stats();
                            passesPerToken = result.Generation.Tokens.Length > 0 ? (after.TargetPasses - before.TargetPasses) / (double)result.Generation.Tokens.Length : 0;
                            return result;
                        }
                        void Add(string drafterName, string mode, SpeculativeResult result, double passes, double plainTokS)
                        {
                            var row = new SpeculativeBenchRow
                            {
                                Link = link, RttMs = rtt, Drafter = drafterName, DraftLengthMode = mode, Tokens = result.Generation.Tokens.Length,
                                TokS = Math.Round(result.TokensPerSecond, 2), Speedup = plainTokS > 0 ? Math.Round(result.TokensPerSecond / plainTokS, 2) : 1,
                                AcceptRate = Math.Round(result.AcceptRate, 3), TokensPerRound = Math.Round(result.TokensPerRound, 2), DraftLength = Math.Round(result.DraftLength, 2),
                                TargetPassesPerToken = Math.Round(passes, 3),
                                IdenticalToPlain = drafterName.StartsWith('α') || reference is null || result.Generation.Tokens.AsSpan().SequenceEqual(reference.AsSpan(0, Math.Min(reference.Length, result.Generation.Tokens.Length))) && result.Generation.Tokens.Length == reference.Length,
                            };
                            rows.Add(row);
                            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"edgenode bench: {link} RTT {rtt} ms {drafterName} {mode}: {row.TokS:F1} tok/s ({row.Speedup:F2}×), accept {row.AcceptRate:P0}, {row.TokensPerRound:F2} tokens/round, k {row.DraftLength:F1}"));
                        }

                        using (var none = new NGramDrafter())
                        {
                            var plain = Measure(none, new DraftLengthController(1, 0), out var plainPasses);
                            reference ??= plain.Generation.Tokens;
                            Add("plain", "k=0", plain, plainPasses, 0);
                            var plainTokS = plain.TokensPerSecond;
                            rows[^1].Speedup = 1;
                            foreach (var (drafterName, make) in drafters)
                            {
                                foreach (var adaptive in new[] { true, false })
                                {
                                    using var drafter = make();
                                    var result = Measure(drafter, new DraftLengthController(VerifierOptions.DefaultMaxDraftTokens, adaptive ? null : FixedDraftLength), out var passes);
                                    Add(drafterName, adaptive ? "auto" : $"k={FixedDraftLength}", result, passes, plainTokS);
                                }
                            }
                            foreach (var alpha in alphas)
                            {
                                foreach (var adaptive in new[] { true, false })
                                {
                                    using var oracle = new PlaceholderDrafter(alpha);
                                    var result = Measure(oracle, new DraftLengthController(VerifierOptions.DefaultMaxDraftTokens, adaptive ? null : FixedDraftLength), out var passes);
                                    Add(oracle.Name, adaptive ? "auto" : $"k={FixedDraftLength}", result, passes, plainTokS);
                                }
                            }
                        }
                    }
                    finally
                    {
                        proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    }
                }
            }
            if (sessions > 0 && reference is not null)
            {
                log.WriteLine($"edgenode bench: verifier capacity: {sessions} sessions, {CapacityConcurrency} at a time, no added delay");
                capacity.Add(Capacity(serve.Url, "plain", () => new NGramDrafter(), 0));
                if (draftModel is not null)
                {
                    // A model runs one pass at a time: each concurrent session drafts with its own copy of the (small) draft model.
                    var draftFolder = draftModel.Folder;
                    capacity.Add(Capacity(serve.Url, drafters[0].Name,
                        () => new ModelDrafter(LocalModel.Load(runtime, draftFolder, tokenizerArg), SamplingOptions.Greedy, config.MaxSeqLen, drafters[0].Name, ownsModel: true), null));
                }
                capacity.Add(Capacity(serve.Url, "ngram", () => new NGramDrafter(), null));
                foreach (var alpha in alphas.Where(x => x >= 0.8).Take(1))
                    capacity.Add(Capacity(serve.Url, $"α={alpha:0.##}", () => new PlaceholderDrafter(alpha), null));
            }
        }
        finally
        {
            wan?.Dispose();
            draftModel?.Dispose();
            selfInt4?.Dispose();
        }

        CapacityRow Capacity(string url, string drafterName, Func<IDrafter> make, int? fixedLength)
        {
            var clock = Stopwatch.StartNew();
            long generated = 0;
            VerifierStats before, after;
            using (var probe = new RemoteVerifierSession(url, targetId, fingerprint, SamplingOptions.Greedy, apiKey))
                before = probe.Stats();
            var next = -1;
            var workers = Enumerable.Range(0, CapacityConcurrency).Select(_ => Task.Run(() =>
            {
                while (Interlocked.Increment(ref next) < sessions)
                {
                    using var drafter = make();
                    using var session = new RemoteVerifierSession(url, targetId, fingerprint, SamplingOptions.Greedy, apiKey,
                        benchmarkAcceptance: drafter is PlaceholderDrafter placeholder ? placeholder.Alpha : null);
                    var result = new SpeculativeGenerator(tokenizer).Generate(prompt, new GenerationOptions { MaxTokens = tokens, Sampling = SamplingOptions.Greedy },
                        drafter, session, new DraftLengthController(VerifierOptions.DefaultMaxDraftTokens, fixedLength));
                    Interlocked.Add(ref generated, result.Generation.Tokens.Length);
                }
            })).ToArray();
            Task.WaitAll(workers);
            var seconds = clock.Elapsed.TotalSeconds;
            using (var probe = new RemoteVerifierSession(url, targetId, fingerprint, SamplingOptions.Greedy, apiKey))
                after = probe.Stats();
            var row = new CapacityRow
            {
                Drafter = drafterName,
                Sessions = sessions,
                Concurrency = CapacityConcurrency,
                SessionsPerS = Math.Round(sessions / seconds, 2),
                TokS = Math.Round(generated / seconds, 1),
                TargetPassesPerToken = Math.Round((after.TargetPasses - before.TargetPasses) / (double)Math.Max(1, generated), 3),
            };
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"edgenode bench: capacity {drafterName}: {row.SessionsPerS:F2} sessions/s, {row.TokS:F1} tok/s, {row.TargetPassesPerToken:F3} target passes/token"));
            return row;
        }

        var report = new SpeculativeBenchReport
        {
            Model = name, Target = targetFolder, Precision = manifest.Precision, Threads = threads, Tokens = tokens,
            Draft = draftPath, Rows = rows, Capacity = capacity, Note = "greedy; client and verifier share this machine's cores",
        };
        jsonOut ??= $"bench-speculative-{Sanitize(manifest.Name)}.json";
        File.WriteAllText(jsonOut, JsonSerializer.Serialize(report, SpeculativeBenchJsonContext.Default.SpeculativeBenchReport));
        PrintSpeculative(report);
        Console.Out.WriteLine($"json: {jsonOut}");
        return rows.All(x => x.IdenticalToPlain) ? 0 : 1;
    }

    private static void PrintSpeculative(SpeculativeBenchReport r)
    {
        var o = Console.Out;
        o.WriteLine();
        o.WriteLine($"{r.Model} ({r.Precision}) as the verifier, {r.Tokens} tokens greedy, {r.Threads} threads");
        o.WriteLine("| link | RTT ms | drafter | k | tok/s | × plain | accept | tokens/round | mean k | target passes/token | same tokens |");
        o.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var x in r.Rows)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {x.Link} | {x.RttMs:0} | {x.Drafter} | {x.DraftLengthMode} | {x.TokS:F1} | {x.Speedup:F2} | {x.AcceptRate:P0} | {x.TokensPerRound:F2} | {x.DraftLength:F1} | {x.TargetPassesPerToken:F3} | {(x.Drafter.StartsWith('α') ? "n/a (simulated α)" : x.IdenticalToPlain ? "yes" : "NO")} |"));
        }
        if (r.Capacity.Count == 0)
            return;
        o.WriteLine();
        o.WriteLine("| verifier capacity | sessions | at once | sessions/s | tok/s | target passes/token |");
        o.WriteLine("|---|---|---|---|---|---|");
        foreach (var c in r.Capacity)
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {c.Drafter} | {c.Sessions} | {c.Concurrency} | {c.SessionsPerS:F2} | {c.TokS:F1} | {c.TargetPassesPerToken:F3} |"));
    }

    private static List<double> Numbers(string text, string option)
    {
        var list = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
                throw new UsageException($"{option} '{part}' is not a non-negative number (a comma-separated list, e.g. 0,20,50,100)");
            list.Add(value);
        }
        return list;
    }
}

public sealed class SpeculativeBenchReport
{
    public required string Model { get; init; }
    public required string Target { get; init; }
    public required string Precision { get; init; }
    public int Threads { get; init; }
    public int Tokens { get; init; }
    public string? Draft { get; init; }
    public required List<SpeculativeBenchRow> Rows { get; init; }
    public required List<CapacityRow> Capacity { get; init; }
    public required string Note { get; init; }
}

public sealed class SpeculativeBenchRow
{
    public required string Link { get; init; }
    public double RttMs { get; init; }
    public required string Drafter { get; init; }
    public required string DraftLengthMode { get; init; }
    public int Tokens { get; init; }
    public double TokS { get; init; }
    public double Speedup { get; set; }
    public double AcceptRate { get; init; }
    public double TokensPerRound { get; init; }
    public double DraftLength { get; init; }
    public double TargetPassesPerToken { get; init; }
    public bool IdenticalToPlain { get; init; }
}

public sealed class CapacityRow
{
    public required string Drafter { get; init; }
    public int Sessions { get; init; }
    public int Concurrency { get; init; }
    public double SessionsPerS { get; init; }
    public double TokS { get; init; }
    public double TargetPassesPerToken { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SpeculativeBenchReport))]
internal sealed partial class SpeculativeBenchJsonContext : JsonSerializerContext;
