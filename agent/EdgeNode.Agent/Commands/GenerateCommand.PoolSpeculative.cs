using System.Globalization;
using System.Text.Json;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Tokenizers;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Security;

namespace EdgeNode.Agent.Commands;

/// <summary>What `generate --pool/--entry --draft` read, for the speculative path.</summary>
internal sealed record PoolDraftArguments(
    string Draft, string? DraftLength, string? Model, string? Tokenizer, ConversionOptions Conversion, WeightPrecision? Precision, InferenceOptions Inference);

/// <summary>
/// `edgenode generate --pool NAME --draft D` (or --entry HOST:PORT): speculative decoding with the pool's chain as the
/// verifier. This device drafts; each round's drafts (with the history the chain has not run) go to the entry in one
/// frame, run through every node in one pass, and the last node's verdict comes back round the ring. The same loop,
/// drafters and adaptive draft length as `--verifier URL`; the output is the pool model's (identical under greedy).
/// </summary>
public static partial class GenerateCommand
{
    private static int RunSpeculativeThroughPool(string entry, PoolDraftArguments drafting, string prompt, GenerationOptions options,
        HiddenEncoding encoding, bool zstd, bool json, TextWriter stdout, PoolHandshake? handshake)
    {
        int? fixedLength = drafting.DraftLength is null or "auto"
            ? null
            : int.TryParse(drafting.DraftLength, NumberStyles.None, CultureInfo.InvariantCulture, out var k) && k is >= 0 and <= DataPlaneLimits.MaxDraftTokens
                ? k
                : throw new UsageException($"--draft-length '{drafting.DraftLength}' is not auto or a whole number 0..{DataPlaneLimits.MaxDraftTokens}");
        // The last node draws with the seed; one chosen here is one the report can print, so the run can be repeated.
        var sampling = options.Sampling with { Seed = options.Sampling.Seed ?? (ulong)DateTime.UtcNow.Ticks };
        options = options with { Sampling = sampling };
        var capacity = options.ContextLength > 0 ? options.ContextLength : int.MaxValue;
        var runtime = new InferenceRuntime(drafting.Inference);

        string LocalTarget(string what) => drafting.Model is { } model
            ? ModelResolver.Resolve(model, drafting.Tokenizer, what == "self-int4" ? WeightPrecision.Int4 : drafting.Precision,
                what == "self-int4" ? drafting.Conversion with { Precision = WeightPrecision.Int4 } : drafting.Conversion, Console.Error)
            : throw new UsageException($"--draft {what} through a pool needs --model: a local copy of the pool's model ({(what == "ngram" ? "it lends its tokenizer" : "it is converted to int4 to draft")})");

        IDrafter drafter;
        ITextTokenizer tokenizer;
        switch (drafting.Draft)
        {
            case var d when d.StartsWith("self-layers:", StringComparison.Ordinal):
                throw new UsageException("--draft self-layers:K drafts with --verifier only: through a pool, draft with a model, ngram or self-int4");
            case "ngram":
                var folder = LocalTarget("ngram");
                var manifest = ModelManifest.Load(folder);
                tokenizer = TextTokenizerLoader.Load(drafting.Tokenizer ?? Path.Combine(folder, manifest.Tokenizer), manifest.ToLlamaConfig().VocabSize);
                drafter = new NGramDrafter();
                break;
            case "self-int4":
                var int4 = LocalModel.Load(runtime, LocalTarget("self-int4"), drafting.Tokenizer);
                drafter = new ModelDrafter(int4, sampling, Math.Min(capacity, int4.Config.MaxSeqLen), "self-int4", ownsModel: true);
                tokenizer = int4.Tokenizer;
                break;
            default:
                var draftModel = LocalModel.Load(runtime, ModelResolver.Resolve(drafting.Draft, drafting.Tokenizer, drafting.Precision, drafting.Conversion, Console.Error), drafting.Tokenizer);
                drafter = new ModelDrafter(draftModel, sampling, Math.Min(capacity, draftModel.Config.MaxSeqLen), "model:" + ServedModelFolder.IdOf(drafting.Draft), ownsModel: true);
                tokenizer = draftModel.Tokenizer;
                break;
        }
        using var ownedDrafter = drafter;
        var promptTokens = tokenizer.Encode(prompt);
        var lengths = new DraftLengthController(DataPlaneLimits.MaxDraftTokens, fixedLength);

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        SpeculativeResult result;
        VerifierSessionOpened? opened;
        try
        {
            var client = PoolClient.ConnectAsync(entry, cancellation: cancel.Token, handshake: handshake).GetAwaiter().GetResult();
            try
            {
                using var verifier = client.CreateVerifierSession(new PoolVerifierOptions
                {
                    Sampling = sampling, Encoding = encoding, Zstd = zstd, ContextLength = options.ContextLength,
                    Tokenizer = TokenizerFingerprint.Of(tokenizer),
                });
                result = new SpeculativeGenerator(tokenizer).Generate(promptTokens, options, drafter, verifier, lengths,
                    json ? null : piece => { stdout.Write(piece); stdout.Flush(); }, cancel.Token);
                opened = verifier.Opened;
            }
            finally
            {
                client.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"edgenode: {e.Message}; is a pool node serving at {entry}?");
            return 1;
        }
        catch (PoolChainException e)
        {
            Console.Error.WriteLine($"edgenode: the pool refused ({e.Code}): {e.Message}");
            return 1;
        }
        catch (VerifierSessionLostException e)
        {
            Console.Error.WriteLine($"edgenode: {e.Message}; gave up after {SpeculativeGenerator.MaxReopensInARow} attempts to reopen the session on the pool at {entry}");
            return 1;
        }

        var generation = result.Generation;
        if (json)
        {
            var report = SpeculativeGenerateReport.From(opened?.Model ?? "",
                $"pool {entry} ({opened?.Hops ?? 0} nodes, epoch {opened?.Epoch ?? 0}, {HiddenEncodingNames.ToName(encoding, zstd)})",
                result, sampling.Seed ?? 0, lengths.Adaptive, drafting.Inference.Threads, string.Join(',', runtime.ActiveProviders));
            stdout.WriteLine(JsonSerializer.Serialize(report, SpeculativeReportJsonContext.Default.SpeculativeGenerateReport));
        }
        else
        {
            stdout.WriteLine();
            if (!Console.IsErrorRedirected)
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{generation.Tokens.Length} tokens in {result.Rounds} rounds through {opened?.Hops ?? 0} pool nodes, {result.TokensPerSecond:F1} tok/s; drafter {result.Drafter}, accepted {result.AcceptRate:P0}, {result.TokensPerRound:F2} tokens/round, draft length {result.DraftLength:F1}; {generation.StopReason}]"));
            }
        }
        return 0;
    }
}
