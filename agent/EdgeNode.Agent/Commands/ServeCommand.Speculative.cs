using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Verifier;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode serve`'s speculative mode: a local draft model and a remote verifier for models too big for this node.</summary>
public static partial class ServeCommand
{
    private const string SpeculativeHelp = """
          --verifier-url URL speculative mode: the `edgenode serve` that holds models too big for this node and verifies drafts
                             (its API key from verifier_key or EDGENODE_VERIFIER_KEY; see docs/api.md)
          --draft PATH       speculative mode: the local draft model (same tokenizer as the target)

        """;

    private static void ReadSpeculativeArguments(ArgumentReader args, ServeSettings settings)
    {
        settings.VerifierUrl = args.String("verifier-url") ?? settings.VerifierUrl;
        settings.Draft = args.String("draft") ?? settings.Draft;
    }

    /// <summary>The speculative mode when a verifier is configured, else null; the draft is loaded now so a bad path fails at start.</summary>
    private static SpeculativeServingMode? SpeculativeModeFrom(ServeSettings settings, InferenceRuntime runtime, WeightPrecision? precision, ConversionOptions conversion)
    {
        if (settings.VerifierUrl is null && settings.Draft is null)
            return null;
        if (settings.VerifierUrl is null)
            throw new UsageException("--draft needs --verifier-url URL (or verifier_url in --config): the draft's tokens are verified there");
        if (settings.Draft is null)
            throw new UsageException("--verifier-url needs --draft PATH (or draft in --config): the local model that drafts for the verifier");
        if (settings.Draft is "ngram" or "self-int4")
            throw new UsageException($"--draft {settings.Draft} is for `edgenode generate --verifier`; serve renders each request with the draft's tokenizer and chat format, so --draft must name a model with the target's tokenizer");
        if (!File.Exists(settings.Draft) && !Directory.Exists(settings.Draft) && !Directory.Exists(Path.Combine(AgentPaths.Models, settings.Draft)))
            throw new FileNotFoundException($"--draft '{settings.Draft}' not found: not a file, not a folder, and not a pulled model (see 'edgenode models list')");
        var draft = LocalModel.Load(runtime, ModelResolver.Resolve(settings.Draft, null, precision, conversion, TextWriter.Null));
        try
        {
            return new SpeculativeServingMode(settings.VerifierUrl, settings.VerifierKey, draft, "model:" + ServedModelFolder.IdOf(settings.Draft), settings.ChatTemplate);
        }
        catch (ArgumentException e)
        {
            draft.Dispose();
            throw new UsageException(e.Message);
        }
    }
}
