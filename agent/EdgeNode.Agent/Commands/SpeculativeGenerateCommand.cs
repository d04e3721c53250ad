using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;
using EdgeNode.Verifier;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode generate --verifier URL`: speculative decoding against a remote verifier. This device drafts (a small model,
/// the target's int4 copy, or n-gram lookup), the verifier checks each round's drafts in one pass of the target, and
/// the accepted tokens stream at once. The output is the target's: identical under greedy, the same distribution when
/// sampling. A verifier restart loses nothing: the session is reopened with the accepted history and the round resent.
/// </summary>
public static class SpeculativeGenerateCommand
{
    public const string ApiKeyVariable = "EDGENODE_API_KEY";

    /// <summary>What `generate` parsed, handed over whole so both paths read the same flags the same way.</summary>
    public sealed record Request(
        string Model, string Prompt, string? Tokenizer, ConversionOptions Conversion, WeightPrecision? Precision,
        GenerationOptions Options, int RequestedContext, ChatArguments Chat, bool Json, InferenceOptions Inference,
        string VerifierUrl, string Draft, string? DraftLength);

    private const string SelfLayersPrefix = "self-layers:";

    /// <summary>
    /// The target's first K layers and its head, as a model of their own: converted with a slice boundary at K (once,
    /// cached beside the whole conversion) and loaded without the layers past it.
    /// </summary>
    private static LocalModel LoadFirstLayers(InferenceRuntime runtime, Request request, string draft)
    {
        var whole = ModelManifest.Load(ModelResolver.Resolve(request.Model, request.Tokenizer, request.Precision, request.Conversion, Console.Error));
        var layers = whole.ToLlamaConfig().Layers;
        var text = draft[SelfLayersPrefix.Length..];
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var k) || k < 1 || k >= layers)
            throw new UsageException($"--draft {draft}: K must be a whole number of layers from 1 to {layers - 1} (the target has {layers})");
        var folder = ModelResolver.Resolve(request.Model, request.Tokenizer, request.Precision,
            request.Conversion with { LayerRanges = [(0, k), (k, layers)] }, Console.Error);
        return LocalModel.Load(runtime, folder, request.Tokenizer, firstLayers: k);
    }

    public static int Run(Request request)
    {
        var options = request.Options;
        int? fixedLength = request.DraftLength is null or "auto"
            ? null
            : int.TryParse(request.DraftLength, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k is >= 0 and <= VerifierOptions.DefaultMaxDraftTokens
                ? k
                : throw new UsageException($"--draft-length '{request.DraftLength}' is not auto or a whole number 0..{VerifierOptions.DefaultMaxDraftTokens}");
        // The verifier draws with the seed; a seed chosen here is one the report can print, so the run can be repeated.
        var sampling = options.Sampling with { Seed = options.Sampling.Seed ?? (ulong)DateTime.UtcNow.Ticks };
        options = options with { Sampling = sampling, ContextLength = request.RequestedContext };

        var runtime = new InferenceRuntime(request.Inference);
        var targetIsLocal = File.Exists(request.Model) || Directory.Exists(request.Model) || Directory.Exists(Path.Combine(AgentPaths.Models, request.Model));
        var targetId = File.Exists(request.Model) || Directory.Exists(request.Model) ? ServedModelFolder.IdOf(request.Model) : request.Model;
        var capacity = request.RequestedContext > 0 ? request.RequestedContext : int.MaxValue;

        LocalModel? draftModel = null;
        IDrafter drafter;
        ITextTokenizer tokenizer;
        switch (request.Draft)
        {
            case "ngram":
                drafter = new NGramDrafter();
                tokenizer = TargetTokenizer(request, targetIsLocal);
                break;
            case "self-int4":
                if (!targetIsLocal)
                    throw new UsageException("--draft self-int4 converts the target's own checkpoint to int4: --model must name it on this device");
                draftModel = LocalModel.Load(runtime, ModelResolver.Resolve(request.Model, request.Tokenizer, WeightPrecision.Int4,
                    request.Conversion with { Precision = WeightPrecision.Int4 }, Console.Error), request.Tokenizer);
                drafter = new ModelDrafter(draftModel, sampling, Math.Min(capacity, draftModel.Config.MaxSeqLen), "self-int4", ownsModel: true);
                tokenizer = draftModel.Tokenizer;
                break;
            case var named when named.StartsWith(SelfLayersPrefix, StringComparison.Ordinal):
                if (!targetIsLocal)
                    throw new UsageException($"--draft {named} runs the first layers of the target's own checkpoint: --model must name it on this device");
                draftModel = LoadFirstLayers(runtime, request, named);
                drafter = new ModelDrafter(draftModel, sampling, Math.Min(capacity, draftModel.Config.MaxSeqLen), named, ownsModel: true);
                tokenizer = draftModel.Tokenizer;
                break;
            default:
                draftModel = LocalModel.Load(runtime, ModelResolver.Resolve(request.Draft, request.Tokenizer, request.Precision, request.Conversion, Console.Error), request.Tokenizer);
                drafter = new ModelDrafter(draftModel, sampling, Math.Min(capacity, draftModel.Config.MaxSeqLen), "model:" + ServedModelFolder.IdOf(request.Draft), ownsModel: true);
                tokenizer = draftModel.Tokenizer;
                break;
        }
        using var ownedDrafter = drafter;

        int[] promptTokens;
        if (request.Chat.Enabled)
        {
            if (draftModel is null)
                throw new UsageException("--chat with --verifier needs a draft model (its chat format encodes the prompt); use --draft PATH or self-int4");
            (promptTokens, var endOfTurn) = request.Chat.Encode(draftModel, request.Prompt);
            options = options with { StopTokens = endOfTurn };
        }
        else
        {
            promptTokens = tokenizer.Encode(request.Prompt);
        }

        var lengths = new DraftLengthController(VerifierOptions.DefaultMaxDraftTokens, fixedLength);
        using var verifier = new RemoteVerifierSession(request.VerifierUrl, targetId, TokenizerFingerprint.Of(tokenizer), sampling,
            Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null);
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        var stdout = Console.Out;
        SpeculativeResult result;
        try
        {
            result = new SpeculativeGenerator(tokenizer).Generate(promptTokens, options, drafter, verifier, lengths,
                request.Json ? null : piece => { stdout.Write(piece); stdout.Flush(); }, cancel.Token);
        }
        catch (VerifierRequestException e)
        {
            throw new InvalidOperationException(e.Message);
        }
        catch (VerifierSessionLostException e)
        {
            throw new IOException($"{e.Message}; gave up after {SpeculativeGenerator.MaxReopensInARow} attempts to reopen the session. Check that the verifier runs at {request.VerifierUrl}");
        }

        var generation = result.Generation;
        if (request.Json)
        {
            var report = SpeculativeGenerateReport.From(targetId, request.VerifierUrl, result, sampling.Seed ?? 0, lengths.Adaptive,
                request.Inference.Threads, string.Join(',', runtime.ActiveProviders));
            stdout.WriteLine(JsonSerializer.Serialize(report, SpeculativeReportJsonContext.Default.SpeculativeGenerateReport));
        }
        else
        {
            stdout.WriteLine();
            if (!Console.IsErrorRedirected)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{generation.Tokens.Length} tokens in {result.Rounds} rounds, {result.TokensPerSecond:F1} tok/s; drafter {result.Drafter}, accepted {result.AcceptRate:P0}, {result.TokensPerRound:F2} tokens/round, draft length {result.DraftLength:F1}; {generation.StopReason}]"));
            }
        }
        return 0;
    }

    /// <summary>The target's tokenizer from its local copy, for a drafter that has no model of its own.</summary>
    private static ITextTokenizer TargetTokenizer(Request request, bool targetIsLocal)
    {
        if (!targetIsLocal)
            throw new UsageException($"--draft {request.Draft} has no model to lend a tokenizer: pass --model as the target's local checkpoint (or draft with a model)");
        var folder = ModelResolver.Resolve(request.Model, request.Tokenizer, request.Precision, request.Conversion, Console.Error);
        var manifest = ModelManifest.Load(folder);
        return TextTokenizerLoader.Load(request.Tokenizer ?? Path.Combine(folder, manifest.Tokenizer), manifest.ToLlamaConfig().VocabSize);
    }
}

/// <summary>`edgenode generate --verifier … --json`: one object, snake_case.</summary>
public sealed class SpeculativeGenerateReport
{
    /// <summary>The report of one speculative generation, whichever verifier (a remote serve or a pool's chain) checked its drafts.</summary>
    public static SpeculativeGenerateReport From(string model, string verifier, SpeculativeResult result, ulong seed, bool adaptiveLength, int threads, string executionProviders)
    {
        ArgumentNullException.ThrowIfNull(result);
        var generation = result.Generation;
        return new SpeculativeGenerateReport
        {
            Model = model,
            Verifier = verifier,
            Drafter = result.Drafter,
            PromptTokens = generation.PromptTokens,
            Tokens = generation.Tokens,
            Text = generation.Text,
            StopReason = generation.StopReason.ToString(),
            TokS = Math.Round(result.TokensPerSecond, 2),
            DecodeTokS = Math.Round(generation.DecodeTokensPerSecond, 2),
            TtftMs = Math.Round(generation.Prefill.TotalMilliseconds, 2),
            Seed = seed,
            Rounds = result.Rounds,
            AcceptRate = Math.Round(result.AcceptRate, 4),
            TokensPerRound = Math.Round(result.TokensPerRound, 3),
            DraftLength = Math.Round(result.DraftLength, 3),
            DraftLengthMode = adaptiveLength ? "auto" : "fixed",
            Reopens = result.Reopens,
            Threads = threads,
            Ep = executionProviders,
        };
    }

    public required string Model { get; init; }
    public required string Verifier { get; init; }
    public required string Drafter { get; init; }
    public required int[] PromptTokens { get; init; }
    public required int[] Tokens { get; init; }
    public required string Text { get; init; }
    public required string StopReason { get; init; }
    /// <summary>Generated tokens over the whole run, first round included.</summary>
    public double TokS { get; init; }
    public double DecodeTokS { get; init; }
    public double TtftMs { get; init; }
    public ulong Seed { get; init; }
    public int Rounds { get; init; }
    /// <summary>Accepted drafts over proposed drafts.</summary>
    public double AcceptRate { get; init; }
    /// <summary>Tokens emitted per verification round (1: plain remote decoding).</summary>
    public double TokensPerRound { get; init; }
    /// <summary>Mean drafts per round.</summary>
    public double DraftLength { get; init; }
    public required string DraftLengthMode { get; init; }
    public int Reopens { get; init; }
    public int Threads { get; init; }
    public required string Ep { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SpeculativeGenerateReport))]
internal sealed partial class SpeculativeReportJsonContext : JsonSerializerContext;
