using System.Text.Json;
using EdgeNode.Agent.Cli;
using EdgeNode.Agent.Energy;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode generate`: run a model on this device (local solo) and stream its text.</summary>
public static partial class GenerateCommand
{
    public const string Help = """
        usage: edgenode generate --model <dir|checkpoint|name> --prompt TEXT [options]

          --model M          converted folder (manifest.json), llama2.c checkpoint (.bin or its folder), or a pulled model name
          --tokenizer F      llama2.c tokenizer (default: tokenizer.bin / tok512.bin beside the checkpoint)
          --prompt TEXT      the prompt (may be empty)
          --max-tokens N     most tokens to generate (default 256)
          --temperature T    0 = greedy (default 0.8)
          --top-k K          keep the K likeliest tokens, 0 = off (default 40)
          --top-p P          nucleus sampling mass (default 0.95)
          --repeat-penalty R repetition penalty, 1 = off (default 1.0)
          --seed S           random seed (default: from the clock; printed with --json)
          --stop TEXT        stop when TEXT appears
          --context N        positions the conversation may hold (default: the smallest of the model's context,
                             EDGENODE_CONTEXT and what memory leaves for the KV cache; more than that is an error)
          --memory SIZE      memory to plan the context for, e.g. 4G (default: what is free now)
          --json             print one JSON object instead of streaming text
          --verifier URL     speculative: draft here, verify on the `edgenode serve` at URL (key: EDGENODE_API_KEY);
                             --model is then the target the verifier serves (a local copy names it and lends its tokenizer)
          --draft D          with --verifier, --pool or --entry: a draft model (path or name, same tokenizer), ngram (prompt
                             lookup, no model), self-int4 (the target's own checkpoint converted to int4) or, with
                             --verifier, self-layers:K (the target's first K layers and its head, an early exit: no
                             second model) (default ngram)
          --draft-length K   with --draft: drafts per round, or auto (from acceptance and round trip) (default auto)

        """ + PoolHelp + ChatArguments.Help + ConversionArguments.Help + InferenceArguments.Help;

    public static int Run(ArgumentReader args)
    {
        if (args.String("entry") is { } entry)
            return RunThroughPool(entry, args, Console.Out);
        if (args.String("pool") is { } pool)
            return RunThroughNamedPool(pool, args, Console.Out);
        var model = args.Required("model", "<dir|checkpoint|name>");
        var prompt = args.String("prompt") ?? throw new UsageException("edgenode generate needs --prompt TEXT (it may be empty: --prompt \"\")");
        var tokenizer = args.String("tokenizer");
        var (conversion, precision) = ConversionArguments.Read(args);
        var sampling = SamplingFrom(args);
        var stop = args.String("stop");
        var options = new GenerationOptions
        {
            MaxTokens = args.Int("max-tokens", 256, 0),
            Sampling = sampling,
            StopTexts = stop is null ? [] : [stop],
        };
        var requestedContext = args.Int("context", 0, 1);
        var memory = args.String("memory");
        var chat = ChatArguments.Read(args);
        var json = args.Flag("json");
        var verifier = args.String("verifier");
        var draft = args.String("draft");
        var draftLength = args.String("draft-length");
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        sampling.Validate();
        if (verifier is not null)
        {
            return SpeculativeGenerateCommand.Run(new SpeculativeGenerateCommand.Request(
                model, prompt, tokenizer, conversion, precision, options, requestedContext, chat, json, inference, verifier, draft ?? "ngram", draftLength));
        }
        if (draft is not null || draftLength is not null)
            throw new UsageException("--draft and --draft-length belong to speculative generation: add --verifier URL");

        // The runtime first: a bad --ep or a missing ONNX Runtime fails before any conversion work.
        var runtime = new InferenceRuntime(inference);
        var folder = ModelResolver.Resolve(model, tokenizer, precision, conversion, Console.Error);
        foreach (var fallback in runtime.ProviderFallbacks)
            Console.Error.WriteLine($"edgenode: execution provider not used, falling back: {fallback}");
        // Free memory is read before the weights are loaded: it is what they and the KV cache share.
        var context = DeviceContext.For(Models.Conversion.ModelManifest.Load(folder), DeviceContext.Available(memory), requestedContext);
        Console.Error.WriteLine($"edgenode: {context.Describe()}");
        options = options with { ContextLength = context.Positions };
        using var local = LocalModel.Load(runtime, folder, tokenizer);
        var generator = new TextGenerator(local);
        int[] promptTokens;
        if (chat.Enabled)
        {
            (promptTokens, var endOfTurn) = chat.Encode(local, prompt);
            options = options with { StopTokens = endOfTurn };
        }
        else
        {
            promptTokens = local.Tokenizer.Encode(prompt);
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        var stdout = Console.Out;
        using var energy = EnergyMeter.ForThisBoard();
        energy.Start();
        var result = generator.Generate(promptTokens, options, json ? null : piece => { stdout.Write(piece); stdout.Flush(); }, cancel.Token);
        var joulesPerToken = energy.Finish(result.Tokens.Length, result.Prefill + result.Decode);

        if (json)
        {
            var report = new GenerateReport
            {
                Model = folder,
                Precision = local.Manifest.Precision,
                PromptTokens = result.PromptTokens,
                Tokens = result.Tokens,
                Text = result.Text,
                StopReason = result.StopReason.ToString(),
                PrefillTokS = Math.Round(result.PrefillTokensPerSecond, 1),
                DecodeTokS = Math.Round(result.DecodeTokensPerSecond, 1),
                TtftMs = Math.Round(result.Prefill.TotalMilliseconds, 2),
                Ep = string.Join(',', runtime.ActiveProviders),
                MatMulKernels = runtime.MatMulKernels,
                Threads = inference.Threads,
                Seed = result.Seed,
                Context = context.Positions,
                PeakRssMb = Math.Round(Bench.ProcessMemory.PeakResidentBytes / 1048576.0, 1),
                RssMb = Math.Round(Bench.ProcessMemory.ResidentBytes / 1048576.0, 1),
                JoulesPerToken = joulesPerToken,
                PowerSensor = energy.SensorName,
            };
            stdout.WriteLine(JsonSerializer.Serialize(report, AgentJsonContext.Default.GenerateReport));
        }
        else
        {
            stdout.WriteLine();
            if (!Console.IsErrorRedirected)
                Console.Error.WriteLine($"[{result.PromptTokens.Length} prompt tokens, {result.PrefillTokensPerSecond:F0} tok/s prefill; {result.Tokens.Length} generated, {result.DecodeTokensPerSecond:F1} tok/s decode; {result.StopReason}]");
        }
        return 0;
    }

    /// <summary>The sampling flags, read the same way whether the model runs here or in a pool.</summary>
    private static SamplingOptions SamplingFrom(ArgumentReader args) => new()
    {
        Temperature = args.Float("temperature", 0.8f),
        TopK = args.Int("top-k", 40, 0),
        TopP = args.Float("top-p", 0.95f),
        RepetitionPenalty = args.Float("repeat-penalty", 1.0f),
        Seed = args.ULong("seed"),
    };
}
