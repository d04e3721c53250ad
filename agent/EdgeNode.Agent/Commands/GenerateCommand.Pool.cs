using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Security;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode generate --entry HOST:PORT`: generate through a pool's chain from a machine that holds no model files,
/// by talking to the chain's entry node directly. (Finding the entry from a pool name through the broker is the
/// control plane's; it ends here too.)
/// </summary>
public static partial class GenerateCommand
{
    private const string PoolHelp = """

        Through a pool (no model files here; the same generation options apply):
          --pool NAME        generate through pool NAME's chain for --model NAME, found through its broker
          --broker URL       the pool's broker, mqtt://HOST[:PORT] (default: found by mDNS for --pool)
          --pool-secret S    the pool's secret, for a pool whose nodes run with one (default: $EDGENODE_POOL_SECRET)
          --entry HOST:PORT  the data endpoint of the pool chain's entry node (the one with the embedding)
          --hidden ENC       hidden states between the pool's nodes: fp32, fp16, int8, each optionally +zstd (default fp16)
          (--draft with --pool or --entry: speculative through the pool; the chain verifies each round's drafts in one
           pass. ngram and self-int4 need --model as a local copy of the pool's model.)

        """;

    /// <summary>Runs one generation through the chain whose entry listens at <paramref name="entry"/>, writing to <paramref name="stdout"/>.</summary>
    /// <param name="handshake">The pool's secret as a handshake, for a pool that requires one (--pool with --pool-secret).</param>
    public static int RunThroughPool(string entry, ArgumentReader args, TextWriter stdout, PoolHandshake? handshake = null)
    {
        if (handshake is null && args.String("pool-secret") is not null)
            throw new UsageException("--pool-secret goes with --pool NAME (the key is derived from the pool's name): use --pool NAME instead of --entry");
        var prompt = args.String("prompt") ?? throw new UsageException("edgenode generate needs --prompt TEXT (it may be empty: --prompt \"\")");
        var sampling = SamplingFrom(args);
        var stop = args.String("stop");
        var maxTokens = args.Int("max-tokens", 256, 0);
        var context = args.Int("context", 0, 1);
        var json = args.Flag("json");
        HiddenEncoding encoding;
        bool zstd;
        try
        {
            (encoding, zstd) = HiddenEncodingNames.Parse(args.String("hidden") ?? "fp16");
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--hidden: {e.Message}");
        }
        var draft = args.String("draft");
        var draftLength = args.String("draft-length");
        PoolDraftArguments? drafting = null;
        if (draft is not null)
        {
            var (conversion, precision) = ConversionArguments.Read(args);
            drafting = new PoolDraftArguments(draft, draftLength, args.String("model"), args.String("tokenizer"), conversion, precision, InferenceArguments.Read(args));
        }
        else if (draftLength is not null)
        {
            throw new UsageException("--draft-length belongs to speculative generation: add --draft (a model, ngram or self-int4)");
        }
        args.RejectUnknown();
        sampling.Validate();
        try
        {
            DataEndpoint.Parse(entry);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--entry: {e.Message}");
        }
        if (drafting is not null)
        {
            return RunSpeculativeThroughPool(entry, drafting, prompt, new Inference.Generation.GenerationOptions
            {
                MaxTokens = maxTokens, Sampling = sampling, StopTexts = stop is null ? [] : [stop], ContextLength = context,
            }, encoding, zstd, json, stdout, handshake);
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        PoolGenerationResult result;
        try
        {
            result = GenerateAsync().GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"edgenode: {e.Message}; is a pool node serving at {entry}?");
            return 1;
        }
        catch (PoolChainException e)
        {
            Console.Error.WriteLine($"edgenode: the pool failed ({e.Code}): {e.Message}");
            return 1;
        }

        if (json)
        {
            var report = new PoolGenerateReport
            {
                Model = result.Model,
                PromptTokens = result.PromptTokens,
                Tokens = result.Tokens,
                Text = result.Text,
                StopReason = result.StopReason.ToString(),
                PrefillTokS = Math.Round(result.PrefillTokensPerSecond, 1),
                DecodeTokS = Math.Round(result.DecodeTokensPerSecond, 1),
                TtftMs = Math.Round(result.TimeToFirstToken.TotalMilliseconds, 2),
                Seed = result.Seed,
                Context = context,
                Entry = entry,
                Epoch = result.Epoch,
                Hidden = result.Encoding,
                Nodes = [.. result.Hops.Select(h => new PoolNodeReport
                {
                    NodeId = h.NodeId, Endpoint = h.Endpoint, FirstLayer = h.FirstLayer, EndLayer = h.EndLayer, Embed = h.Embed, Head = h.Head,
                })],
            };
            stdout.WriteLine(JsonSerializer.Serialize(report, PoolGenerateJsonContext.Default.PoolGenerateReport));
        }
        else
        {
            stdout.WriteLine();
            if (!Console.IsErrorRedirected)
            {
                Console.Error.WriteLine($"[{result.PromptTokens.Length} prompt tokens, {result.PrefillTokensPerSecond:F0} tok/s prefill; {result.Tokens.Length} generated, " +
                    $"{result.DecodeTokensPerSecond:F1} tok/s decode; {result.StopReason}; {result.Hops.Count} nodes: {string.Join(" -> ", result.Hops.Select(h => h.NodeId))}]");
            }
        }
        return 0;

        async Task<PoolGenerationResult> GenerateAsync()
        {
            await using var client = await PoolClient.ConnectAsync(entry, cancellation: cancel.Token, handshake: handshake).ConfigureAwait(false);
            var request = new PoolRequest
            {
                Prompt = prompt,
                MaxTokens = maxTokens,
                Sampling = sampling,
                StopTexts = stop is null ? [] : [stop],
                Encoding = encoding,
                Zstd = zstd,
                ContextLength = context,
            };
            return await client.GenerateAsync(request, json ? null : piece => { stdout.Write(piece.Text); stdout.Flush(); }, cancel.Token).ConfigureAwait(false);
        }
    }
}

/// <summary>`generate --entry --json`: the fields of local generation's report that a pool can fill, plus the chain.</summary>
public sealed class PoolGenerateReport
{
    public required string Model { get; init; }
    public required int[] PromptTokens { get; init; }
    public required int[] Tokens { get; init; }
    public required string Text { get; init; }
    public required string StopReason { get; init; }
    public double PrefillTokS { get; init; }
    public double DecodeTokS { get; init; }
    public double TtftMs { get; init; }
    public ulong Seed { get; init; }

    /// <summary>The context asked for (0: the model's).</summary>
    public int Context { get; init; }

    public required string Entry { get; init; }
    public long Epoch { get; init; }

    /// <summary>Hidden-state encoding between the nodes.</summary>
    public required string Hidden { get; init; }

    /// <summary>The chain in order, with each node's slice.</summary>
    public required List<PoolNodeReport> Nodes { get; init; }
}

public sealed class PoolNodeReport
{
    public required string NodeId { get; init; }
    public required string Endpoint { get; init; }
    public int FirstLayer { get; init; }
    public int EndLayer { get; init; }
    public bool Embed { get; init; }
    public bool Head { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PoolGenerateReport))]
internal sealed partial class PoolGenerateJsonContext : JsonSerializerContext;
