using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Bench;
using EdgeNode.Agent.Cli;
using EdgeNode.Agent.Energy;
using EdgeNode.Agent.Peers;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Gguf;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode bench`: prefill and decode speed, time to first token, memory, bytes of weights read per
/// token, this machine's read bandwidth and the decode bound it sets, and llama.cpp on the same weights in the
/// same command, for the ratio: native llama-bench built for this CPU (decode interleaved with EdgeNode's, round by
/// round, medians reported) and node-llama-cpp's prebuilt binary.
/// </summary>
public static partial class BenchCommand
{
    public const string Help = """
        usage: edgenode bench --model M [options]

        The peers run F32 / Q8_0 / Q4_0 of the same weights for --precision fp32 / int8 / int4, on the same --threads:
        native llama.cpp (llama-bench from ci/build-llama-cpp) and node-llama-cpp.

          --model M          llama2.c checkpoint (or its folder), or a converted folder (then --gguf for the peer)
          --tokenizer F      tokenizer, when not beside the checkpoint
          --prompt-tokens N  prompt length for the prefill measurement (default 64)
          --tokens N         tokens to decode (default 128)
          --gguf F           GGUF file for the peer (default: exported from the checkpoint)
          --no-peer          skip both peers
          --no-node-peer     skip node-llama-cpp (keep native llama-bench)
          --llama-bench F    native llama-bench (default: $EDGENODE_LLAMA_BENCH, then artifacts/llama.cpp/*-native)
          --llama-bench-args A extra llama-bench options, space-separated (e.g. --llama-bench-args="--poll 0": workers sleep
                             instead of spinning at barriers, which matters on a machine shared with other work)
          --rounds N         decode rounds, EdgeNode and llama-bench interleaved; medians reported (default 3)
          --label TEXT       label for the table and JSON (e.g. "random weights at the shape of stories15M")
          --json-out F       where to write the JSON (default bench-<model>-<precision>.json)

        Speculative decoding against plain remote decoding (greedy; starts its own serve with --model as the target):
          --speculative      run this benchmark instead: a delay proxy in front of the verifier, a row per drafter
          --draft M          draft model with the target's tokenizer; adds rows for it, the target's int4 copy and ngram
          --rtt LIST         round trips in ms added by the delay proxy (default 0,20,50,100)
          --alphas LIST      oracle drafter's acceptance rates for the speedup curve, e.g. 0.5,0.7,0.8,0.9
          --rate LIST        link rates in Mbit/s: the verifier runs in a network namespace behind tc tbf (root), e.g. 10,100
          --sessions N       verifier capacity: N sessions, 4 at a time, with and without drafts (default 16; 0 skips)
          --pool-nodes N     verify through a chain of N in-process pool nodes on loopback (--model split into N layer
                             ranges) instead: solo, the pool without drafts, the pool verifying --draft, ngram and --alphas

        """ + ConversionArguments.Help + InferenceArguments.Help + LoadHelp + PoolHelp;

    public static int Run(ArgumentReader args)
    {
        if (args.Flag("speculative"))
            return RunSpeculative(args);
        if (args.Flag("load"))
            return RunLoad(args);
        if (args.Flag("pool"))
            return RunPool(args);
        var model = args.Required("model", "<checkpoint|dir>");
        var tokenizerArg = args.String("tokenizer");
        var (conversion, requested) = ConversionArguments.Read(args);
        var precision = requested ?? WeightPrecision.Fp32;
        var promptLength = args.Int("prompt-tokens", 64, 1, 8192);
        var decodeTokens = args.Int("tokens", 128, 2, 8192);
        var ggufArg = args.String("gguf");
        var noPeer = args.Flag("no-peer");
        var noNodePeer = args.Flag("no-node-peer");
        var llamaBenchArg = args.String("llama-bench");
        var llamaBenchExtra = (args.String("llama-bench-args") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var rounds = args.Int("rounds", 3, 1, 100);
        var label = args.String("label");
        var jsonOut = args.String("json-out");
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        var threads = inference.Threads > 0 ? inference.Threads : Environment.ProcessorCount;
        inference = inference with { Threads = threads };
        var ortLibrary = inference.OrtLibraryPath;

        var log = Console.Error;
        var folder = ModelResolver.Resolve(model, tokenizerArg, precision, conversion, log);
        var manifest = ModelManifest.Load(folder);
        var config = manifest.ToLlamaConfig();
        var name = label ?? manifest.Name;

        log.WriteLine($"edgenode bench: {name} {precision.ToName()}, {threads} threads");
        log.WriteLine("edgenode bench: [1/5] measuring memory bandwidth");
        var bandwidth = MemoryBandwidthProbe.Measure(threads);

        log.WriteLine("edgenode bench: [2/5] process start to first token");
        var startup = StartupProbe.Measure(folder, threads, ortLibrary, inference.SessionConfig);

        log.WriteLine("edgenode bench: [3/5] prefill and decode in process");
        var runtime = new InferenceRuntime(inference);
        using var local = LocalModel.Load(runtime, folder);
        var prompt = DecodeMeasurement.Prompt(local.Tokenizer, promptLength, config.VocabSize);
        if (prompt.Length + decodeTokens > config.MaxSeqLen)
            throw new ArgumentException($"--prompt-tokens {prompt.Length} + --tokens {decodeTokens} exceed the model's context of {config.MaxSeqLen}");
        using var energy = EnergyMeter.ForThisBoard();
        energy.Start();
        var ours = DecodeMeasurement.Run(local, prompt, decodeTokens);
        var joulesPerToken = energy.Finish(ours.Tokens.Length, TimeSpan.FromSeconds(ours.Tokens.Length / Math.Max(ours.DecodeTokS, 1e-9)));
        var peakRss = ProcessMemory.PeakResidentBytes;

        // The GGUF itself when the model is one, so both engines read the very same blocks.
        string? gguf = noPeer ? null
            : ggufArg ?? (model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? model : ExportGguf(model, tokenizerArg, precision, log));
        var llamaBench = noPeer ? null : LlamaBenchPeer.Find(llamaBenchArg);
        if (!noPeer && llamaBench is null)
            log.WriteLine("edgenode bench: native llama-bench not found (run `bash ci/build-llama-cpp`); its row is left out");

        // On a shared machine the load drifts: EdgeNode and llama-bench alternate round by round so both see the
        // same conditions, and the medians are compared.
        var ourRounds = new List<double> { ours.DecodeTokS };
        var nativeRounds = new List<double>();
        LlamaBenchRun? native = null;
        for (var round = 0; round < rounds; round++)
        {
            if (round > 0)
                ourRounds.Add(DecodeMeasurement.Run(local, prompt, decodeTokens).DecodeTokS);
            if (llamaBench is not null && gguf is not null)
            {
                log.WriteLine($"edgenode bench: [3/5] round {round + 1}/{rounds}: native llama-bench on the same file");
                native = LlamaBenchPeer.Run(llamaBench, gguf, decodeTokens, threads, 1, TimeSpan.FromMinutes(20), llamaBenchExtra);
                nativeRounds.Add(native.DecodeTokS);
            }
        }
        var ourDecode = Median(ourRounds);
        NativePeerResult? nativePeer = native is null ? null : new NativePeerResult
        {
            Gguf = gguf!,
            DecodeTokS = Median(nativeRounds),
            RoundsTokS = [.. nativeRounds],
            Commit = native.Commit,
            BuildFlags = native.BuildFlags,
            Binary = native.Binary,
            ExtraArguments = string.Join(' ', llamaBenchExtra),
        };

        var weightBytes = WeightBytesPerToken(manifest);
        var bound = bandwidth / weightBytes;

        PeerResult? peer = null;
        if (gguf is not null && !noNodePeer)
        {
            log.WriteLine("edgenode bench: [4/5] node-llama-cpp on the same weights");
            var run = LlamaCppPeer.Run(gguf, prompt, decodeTokens, threads, TimeSpan.FromMinutes(20));
            var agree = 0;
            while (agree < Math.Min(run.Tokens.Length, ours.Tokens.Length) && run.Tokens[agree] == ours.Tokens[agree])
                agree++;
            peer = new PeerResult
            {
                Gguf = gguf,
                PrefillTokS = run.PrefillTokS,
                DecodeTokS = run.DecodeTokS,
                TtftMs = run.TtftMs,
                AgreeingTokens = agree,
                ComparedTokens = Math.Min(run.Tokens.Length, ours.Tokens.Length),
                TopTwoGapAtDivergence = agree < ours.TopTwoGaps.Length && agree < run.Tokens.Length ? ours.TopTwoGaps[agree] : null,
                LlamaCpp = run.LlamaCpp,
            };
        }

        log.WriteLine("edgenode bench: [5/5] report");
        var report = new BenchReport
        {
            Model = name,
            Folder = folder,
            Precision = precision.ToName(),
            Threads = threads,
            MatMulKernels = runtime.MatMulKernels,
            Dim = config.Dim,
            Layers = config.Layers,
            Vocab = config.VocabSize,
            PromptTokens = prompt.Length,
            DecodeTokens = ours.Tokens.Length,
            PrefillTokS = ours.PrefillTokS,
            DecodeTokS = ourDecode,
            DecodeRoundsTokS = [.. ourRounds],
            TtftMs = ours.TtftMs,
            StartToFirstTokenMs = startup.WallMs,
            ChildPeakRssMb = startup.PeakRssMb,
            ChildIdleRssMb = startup.RssMb,
            BenchPeakRssMb = peakRss / 1048576.0,
            WeightBytesPerToken = weightBytes,
            MemoryBandwidthGbS = bandwidth / 1e9,
            DecodeBoundTokS = bound,
            FractionOfBound = ourDecode / bound,
            Peer = peer,
            NativePeer = nativePeer,
            DecodeRatioVsNative = nativePeer is { DecodeTokS: > 0 } ? ourDecode / nativePeer.DecodeTokS : null,
            DecodeRatioVsPeer = peer is { DecodeTokS: > 0 } ? ourDecode / peer.DecodeTokS : null,
            PrefillRatioVsPeer = peer is { PrefillTokS: > 0 } ? ours.PrefillTokS / peer.PrefillTokS : null,
            JoulesPerToken = joulesPerToken,
            PowerSensor = energy.SensorName,
        };
        jsonOut ??= $"bench-{Sanitize(manifest.Name)}-{precision.ToName()}.json";
        File.WriteAllText(jsonOut, JsonSerializer.Serialize(report, BenchJsonContext.Default.BenchReport));
        PrintTable(report);
        Console.Out.WriteLine($"json: {jsonOut}");
        return 0;
    }

    private static void PrintTable(BenchReport r)
    {
        var o = Console.Out;
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine();
        o.WriteLine($"| model | precision | threads | prefill tok/s | decode tok/s | TTFT ms | start→first token ms | peak RSS MB | weights/token MB | bound tok/s | % of bound | native llama.cpp tok/s | ratio | node-llama-cpp tok/s | ratio | greedy agreement |");
        o.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var nativeDecode = r.NativePeer is null ? "—" : r.NativePeer.DecodeTokS.ToString("F1", inv);
        var nativeRatio = r.DecodeRatioVsNative is { } n ? n.ToString("F2", inv) + "×" : "—";
        var peerDecode = r.Peer is null ? "—" : r.Peer.DecodeTokS.ToString("F1", inv);
        var ratio = r.DecodeRatioVsPeer is { } x ? x.ToString("F2", inv) + "×" : "—";
        var agreement = r.Peer is null ? "—" : $"{r.Peer.AgreeingTokens}/{r.Peer.ComparedTokens}";
        o.WriteLine(string.Create(inv,
            $"| {r.Model} | {r.Precision} | {r.Threads} | {r.PrefillTokS:F1} | {r.DecodeTokS:F1} | {r.TtftMs:F1} | {r.StartToFirstTokenMs:F0} | {r.ChildPeakRssMb:F1} | {r.WeightBytesPerToken / 1048576.0:F2} | {r.DecodeBoundTokS:F1} | {r.FractionOfBound * 100:F0}% | {nativeDecode} | {nativeRatio} | {peerDecode} | {ratio} | {agreement} |"));
        static string List(double[] values) => string.Join(", ", values.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)));
        o.WriteLine($"decode medians of {r.DecodeRoundsTokS.Length} interleaved rounds: EdgeNode [{List(r.DecodeRoundsTokS)}]"
            + (r.NativePeer is { } np ? $", native llama.cpp [{List(np.RoundsTokS)}]" : ""));
        if (r.NativePeer is { } nb)
            o.WriteLine($"native llama.cpp {nb.Commit}, built with {nb.BuildFlags}" + (nb.ExtraArguments.Length > 0 ? $"; run with {nb.ExtraArguments}" : ""));
        o.WriteLine(string.Create(inv, $"memory read bandwidth {r.MemoryBandwidthGbS:F1} GB/s ({r.Threads} threads); idle RSS with the model loaded {r.ChildIdleRssMb:F1} MB"));
        o.WriteLine(r.JoulesPerToken is { } j
            ? string.Create(inv, $"energy {j:F3} J/token ({r.PowerSensor})")
            : "energy: no power sensor on this machine (J/token needs an INA219/INA226 or an hwmon power rail)");
    }

    /// <summary>Bytes of weights a decode step reads: every layer slice and the head (the embedding is a one-row gather).</summary>
    private static long WeightBytesPerToken(ModelManifest manifest)
    {
        long bytes = 0;
        foreach (var slice in manifest.Slices.Where(s => !s.Embed))
        {
            foreach (var file in manifest.Files.Where(f => f.Path == slice.File || f.Path == slice.File + ".data"))
                bytes += file.Bytes;
        }
        return bytes;
    }

    private static string ExportGguf(string model, string? tokenizer, WeightPrecision precision, TextWriter log)
    {
        var source = CheckpointSource.Open(model, tokenizer);
        var type = precision switch
        {
            WeightPrecision.Int8 => GgufTensorType.Q8_0,
            WeightPrecision.Int4 => GgufTensorType.Q4_0,
            _ => GgufTensorType.F32,
        };
        var first = new FileInfo(source.Files[0]);
        var dir = Path.Combine(AgentPaths.Home, "gguf");
        Directory.CreateDirectory(dir);
        var target = Path.Combine(dir, $"{source.Name}-{first.Length:x}-{first.LastWriteTimeUtc.Ticks:x}-{type.ToString().ToLowerInvariant()}.gguf");
        if (File.Exists(target))
            return target;
        log.WriteLine($"edgenode bench: exporting {source.Name} as GGUF {type} for node-llama-cpp");
        GgufExport.Write(source, target, type, log);
        return target;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
}

public sealed class BenchReport
{
    public required string Model { get; init; }
    public required string Folder { get; init; }
    public required string Precision { get; init; }
    public int Threads { get; init; }

    /// <summary>What ran the 4-bit products: "edgenode (avx-vnni)", "edgenode (neon-dotprod)" or "onnxruntime"; null in records from before.</summary>
    [JsonPropertyName("matmul_kernels")]
    public string? MatMulKernels { get; init; }

    public int Dim { get; init; }
    public int Layers { get; init; }
    public int Vocab { get; init; }
    public int PromptTokens { get; init; }
    public int DecodeTokens { get; init; }
    public double PrefillTokS { get; init; }
    public double DecodeTokS { get; init; }
    public double[] DecodeRoundsTokS { get; init; } = [];
    public double TtftMs { get; init; }
    public double StartToFirstTokenMs { get; init; }
    public double ChildPeakRssMb { get; init; }
    public double ChildIdleRssMb { get; init; }
    public double BenchPeakRssMb { get; init; }
    public long WeightBytesPerToken { get; init; }
    public double MemoryBandwidthGbS { get; init; }
    public double DecodeBoundTokS { get; init; }
    public double FractionOfBound { get; init; }
    public PeerResult? Peer { get; init; }
    public NativePeerResult? NativePeer { get; init; }
    public double? DecodeRatioVsNative { get; init; }
    public double? DecodeRatioVsPeer { get; init; }
    public double? PrefillRatioVsPeer { get; init; }
    public double? JoulesPerToken { get; init; }
    public string? PowerSensor { get; init; }
}

public sealed class PeerResult
{
    public required string Gguf { get; init; }
    public double PrefillTokS { get; init; }
    public double DecodeTokS { get; init; }
    public double TtftMs { get; init; }
    public int AgreeingTokens { get; init; }
    public int ComparedTokens { get; init; }
    public float? TopTwoGapAtDivergence { get; init; }
    public string? LlamaCpp { get; init; }
}

/// <summary>Native llama.cpp (llama-bench) on the same GGUF: the median of its rounds and how it was built.</summary>
public sealed class NativePeerResult
{
    public required string Gguf { get; init; }
    public double DecodeTokS { get; init; }
    public double[] RoundsTokS { get; init; } = [];
    public required string Commit { get; init; }
    public required string BuildFlags { get; init; }
    public required string Binary { get; init; }
    public string ExtraArguments { get; init; } = "";
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
