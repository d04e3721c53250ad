using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Evaluation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// Quality against speed and memory for one model at several precisions, measured in one run: perplexity on a text,
/// teacher-forced greedy agreement with fp32 on the same text, greedy decode speed, the bytes of the weights and the
/// peak memory of a fresh process holding the model. The table `edgenode models eval` prints.
/// </summary>
public static class QualityTable
{
    public sealed record Request(
        string Model,
        string? Tokenizer,
        IReadOnlyList<WeightPrecision> Precisions,
        ConversionOptions Conversion,
        InferenceOptions Inference,
        string TextPath,
        int Window,
        int DecodeTokens,
        string? Label);

    public static QualityReport Measure(Request request, TextWriter log)
    {
        var text = File.ReadAllText(request.TextPath);
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException($"evaluation text {request.TextPath} is empty");
        var threads = request.Inference.Threads > 0 ? request.Inference.Threads : Environment.ProcessorCount;
        var inference = request.Inference with { Threads = threads };
        // fp32 goes first so every quantized row can be compared with it.
        var precisions = request.Precisions.Distinct().OrderBy(p => p == WeightPrecision.Fp32 ? 0 : 1).ToList();
        var rows = new List<QualityRow>();
        PerplexityResult? fp32 = null;
        string? name = null;
        var runtime = new InferenceRuntime(inference);
        for (var i = 0; i < precisions.Count; i++)
        {
            var precision = precisions[i];
            var step = $"edgenode models eval: [{i + 1}/{precisions.Count}] {precision.ToName()}";
            var folder = ModelResolver.Resolve(request.Model, request.Tokenizer, precision, request.Conversion with { Precision = precision }, log);
            var manifest = ModelManifest.Load(folder);
            name ??= request.Label ?? manifest.Name;
            log.WriteLine($"{step}: perplexity");
            PerplexityResult perplexity;
            DecodeMeasurement decode;
            using (var local = LocalModel.Load(runtime, folder, request.Tokenizer))
            {
                perplexity = PerplexityEvaluator.Evaluate(local, text, request.Window);
                log.WriteLine($"{step}: decode speed");
                var promptLength = Math.Min(32, local.Config.MaxSeqLen / 4);
                var decodeTokens = Math.Min(request.DecodeTokens, local.Config.MaxSeqLen - promptLength);
                decode = DecodeMeasurement.Run(local, DecodeMeasurement.Prompt(local.Tokenizer, promptLength, local.Config.VocabSize), decodeTokens);
            }
            log.WriteLine($"{step}: memory of a fresh process");
            var startup = StartupProbe.Measure(folder, threads, inference.OrtLibraryPath, inference.SessionConfig);
            if (precision == WeightPrecision.Fp32)
                fp32 = perplexity;
            rows.Add(new QualityRow
            {
                Precision = precision.ToName(),
                BlockSize = precision == WeightPrecision.Fp32 ? null : manifest.BlockSize,
                KvPrecision = manifest.KvPrecision.ToName(),
                WeightBytes = manifest.Files.Where(f => f.Path.EndsWith(".onnx", StringComparison.Ordinal) || f.Path.EndsWith(".onnx.data", StringComparison.Ordinal)).Sum(f => f.Bytes),
                Perplexity = perplexity.Perplexity,
                ScoredTokens = perplexity.ScoredTokens,
                TopOneAgreementWithFp32 = precision == WeightPrecision.Fp32 || fp32 is null ? null : perplexity.TopOneAgreement(fp32),
                DecodeTokS = decode.DecodeTokS,
                PrefillTokS = decode.PrefillTokS,
                PeakRssMb = startup.PeakRssMb,
                StartToFirstTokenMs = startup.WallMs,
            });
        }
        return new QualityReport
        {
            Model = name ?? request.Model,
            Text = Path.GetFileName(request.TextPath),
            Threads = threads,
            Rows = rows,
        };
    }

    public static void Print(QualityReport report, TextWriter o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"| model | precision | block | weights MiB | perplexity | Δ vs fp32 | top-1 agreement with fp32 | decode tok/s | peak RSS MB |");
        o.WriteLine("|---|---|---|---|---|---|---|---|---|");
        var fp32 = report.Rows.FirstOrDefault(r => r.Precision == WeightPrecision.Fp32.ToName());
        foreach (var r in report.Rows)
        {
            var delta = fp32 is null || ReferenceEquals(r, fp32) ? "—" : Math.Round((r.Perplexity / fp32.Perplexity - 1) * 100, 1).ToString("+0.0;-0.0;0.0", inv) + "%";
            var agreement = r.TopOneAgreementWithFp32 is { } a ? (a * 100).ToString("F1", inv) + "%" : "—";
            o.WriteLine(string.Create(inv,
                $"| {report.Model} | {r.Precision} | {(r.BlockSize is { } b ? b.ToString(inv) : "—")} | {r.WeightBytes / 1048576.0:F2} | {r.Perplexity:F3} | {delta} | {agreement} | {r.DecodeTokS:F1} | {r.PeakRssMb:F1} |"));
        }
        o.WriteLine(string.Create(inv, $"perplexity over {report.Rows[0].ScoredTokens} tokens of {report.Text}; {report.Threads} threads"));
    }

    public static void Write(QualityReport report, string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(report, QualityJsonContext.Default.QualityReport));
}

public sealed class QualityReport
{
    public required string Model { get; init; }
    public required string Text { get; init; }
    public int Threads { get; init; }
    public required List<QualityRow> Rows { get; init; }
}

public sealed class QualityRow
{
    public required string Precision { get; init; }
    public int? BlockSize { get; init; }

    /// <summary>The KV cache's element type; records written before it was recorded were measured with fp32.</summary>
    public string? KvPrecision { get; init; }

    public long WeightBytes { get; init; }
    public double Perplexity { get; init; }
    public int ScoredTokens { get; init; }
    public double? TopOneAgreementWithFp32 { get; init; }
    public double DecodeTokS { get; init; }
    public double PrefillTokS { get; init; }
    public double PeakRssMb { get; init; }
    public double StartToFirstTokenMs { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(QualityReport))]
internal sealed partial class QualityJsonContext : JsonSerializerContext;
