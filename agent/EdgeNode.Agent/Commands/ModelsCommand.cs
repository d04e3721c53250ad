using EdgeNode.Agent.Bench;
using EdgeNode.Agent.Cli;
using EdgeNode.Inference.Evaluation;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Gguf;
using EdgeNode.Hardware;
using EdgeNode.Models.Hub;
using EdgeNode.Models.Recipes;
using EdgeNode.Models.Synthetic;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode models ...`: convert, list, recipes, pull, synth, export-gguf, eval.</summary>
public static class ModelsCommand
{
    private const string Usage = """
        usage: edgenode models <convert|list|recipes|pull|synth|export-gguf|eval> [options]

          convert <model.bin|model.gguf|hf-folder|pulled name> --out DIR [--tokenizer F] [--precision fp32|int8|int4] [--block-size B]
                  [--accuracy-level A] [--asymmetric] [--awq FILE] [--layers a:b[,b:c]] [--chat-template F]
          convert <hf-folder|pulled name> --out DIR --recipe NAME [--variant V] [--nodes N] [--awq FILE] [--chat-template F]
                                                the recipe's precision, block size, zero points, scaling, N-node slices
                                                and chat format
                  --chat-template F             the chat format recorded in manifest.json (default: the recipe's, else
                                                the one tokenizer_config.json names)
          list
          recipes [--memory SIZE]               recipes with repository, size and whether they fit this device (or SIZE, e.g. 4G)
          recipes --page NAME                   the generated markdown of docs/models/NAME.md (index: the recipe table)
          pull NAME [--dir DIR]                 a catalog model or a recipe (EDGENODE_MODEL_MIRROR=folder pulls from a local mirror)
          synth --shape NAME --seed S --out DIR (shapes: stories15M, stories110M, tinyllama-1.1b, llama-3.2-1b)
          synth --recipe NAME --seed S --out DIR --tokenizer F [--precision P] [--context N]
                                                random weights at a recipe's shape, converted to slices (speed, memory)
          export-gguf <checkpoint> --out F.gguf [--tokenizer F] [--type f32|q8_0|q4_0]
          eval --model M --text FILE [--precision P[,P…]] [--window N] [--tokens N] [--json-out F]
                                    quality against speed and memory: perplexity on the text (teacher forcing),
                                    top-1 agreement with fp32, decode tok/s, weight bytes, peak RSS of a fresh
                                    process; one row per precision (default fp32,int8,int4)
        """;

    public static string Help => Usage;

    public static int Run(string[] args)
    {
        if (args.Length == 0)
            throw new UsageException("edgenode models needs a verb: convert, list, recipes, pull, synth, export-gguf or eval");
        var rest = args[1..];
        return args[0] switch
        {
            "convert" => Convert(new ArgumentReader("models convert", rest)),
            "list" => List(new ArgumentReader("models list", rest)),
            "recipes" => Recipes(new ArgumentReader("models recipes", rest)),
            "pull" => Pull(new ArgumentReader("models pull", rest)),
            "synth" => Synth(new ArgumentReader("models synth", rest)),
            "export-gguf" => ExportGguf(new ArgumentReader("models export-gguf", rest)),
            "eval" => Eval(new ArgumentReader("models eval", rest)),
            _ => throw new UsageException($"unknown verb 'models {args[0]}'; use convert, list, recipes, pull, synth, export-gguf or eval"),
        };
    }

    private static int Convert(ArgumentReader args)
    {
        var outDir = args.Required("out", "DIR");
        var tokenizer = args.String("tokenizer");
        var (conversion, requested) = ConversionArguments.Read(args, readChatTemplate: true);
        var layersText = args.String("layers");
        var recipeName = args.String("recipe");
        var variantName = args.String("variant");
        var nodes = args.Int("nodes", 0, 1, 64);
        args.RejectUnknown(maxPositionals: 1);
        var input = args.Positionals.Count == 1 ? args.Positionals[0] : throw new UsageException("edgenode models convert needs the checkpoint: edgenode models convert <model.bin|model.gguf|hf-folder> --out DIR");
        // Never overwrite a folder that holds something other than an earlier conversion.
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !File.Exists(Path.Combine(outDir, ModelManifest.FileName)))
            throw new ArgumentException($"--out {outDir} exists and is not an earlier conversion; choose an empty or new folder");
        // A bare name is a model pulled earlier (e.g. by 'models pull tinyllama-1.1b').
        if (!File.Exists(input) && !Directory.Exists(input) && Directory.Exists(Path.Combine(AgentPaths.Models, input)))
            input = Path.Combine(AgentPaths.Models, input);
        var source = CheckpointSource.Open(input, tokenizer);

        Action<LlamaConfig>? checkShape = null;
        if (recipeName is not null)
        {
            if (requested is not null || layersText is not null || conversion.BlockSize is not null)
                throw new UsageException("--recipe sets the precision, block size and layer ranges: choose them with --variant and --nodes instead of --precision, --block-size and --layers");
            var recipe = RecipeCatalog.Find(recipeName);
            var variant = recipe.Variant(variantName ?? recipe.DefaultVariant.Name);
            // Pool sizes the recipe does not store are planned the same way on the spot.
            var plan = variant.PoolPlans.Find(p => p.Nodes == Math.Max(nodes, 1))
                ?? LayerSplitPlanner.Plan(WeightFootprint.Of(recipe.Shape, variant), recipe.Shape.Layers, nodes);
            if (variant.ActivationAware && conversion.CalibrationTextPath is null)
            {
                Console.Error.WriteLine($"edgenode: variant {variant.Name} of {recipe.Name} is meant to be activation-aware; "
                    + "pass --awq FILE (text like what the model will read) to calibrate it — converting without the scaling");
            }
            conversion = RecipeConversion.Apply(recipe, variant, plan, conversion);
            checkShape = recipe.CheckCheckpoint;
            Console.Error.WriteLine($"edgenode: recipe {recipe.Name}, variant {variant.Name} ({variant.Reason}); {plan.Nodes} node(s): layers {plan.LayerRanges}");
        }
        else
        {
            if (variantName is not null || nodes != 0)
                throw new UsageException("--variant and --nodes choose from a recipe: add --recipe NAME (see 'edgenode models recipes')");
            conversion = conversion with { LayerRanges = layersText is null ? null : ModelConverter.ParseLayerRanges(layersText) };
        }
        var manifest = ModelResolver.Convert(source, outDir, conversion with { Name = source.Name }, Console.Error, checkShape);
        foreach (var file in manifest.Files)
            Console.Out.WriteLine($"{file.Sha256}  {file.Bytes,12}  {file.Path}");
        return 0;
    }

    /// <summary>
    /// The recipes, their size at the default variant, and whether that fits: alone on this device (or on one with
    /// --memory bytes free), else the smallest pool of such devices whose heaviest node fits.
    /// </summary>
    private static int Recipes(ArgumentReader args)
    {
        var memoryText = args.String("memory");
        var page = args.String("page");
        args.RejectUnknown();
        if (page is not null)
            return RecipePageBlock(page, memoryText);
        long available;
        string device;
        if (memoryText is not null)
        {
            available = ParseSize(memoryText);
            device = $"a device with {FormatBytes(available)} free";
        }
        else
        {
            available = HardwareProbe.Probe().Memory.AvailableBytes;
            device = $"this device ({FormatBytes(available)} available)";
        }
        Console.Out.WriteLine($"{"NAME",-16} {"REPOSITORY",-38} {"PARAMS",8} {"VARIANT",-8} {"WEIGHTS",10}  FIT ON {device.ToUpperInvariant()}");
        foreach (var recipe in RecipeCatalog.All)
        {
            var variant = recipe.DefaultVariant;
            var total = WeightFootprint.Of(recipe.Shape, variant).TotalBytes;
            Console.Out.WriteLine($"{recipe.Name,-16} {recipe.Hub.Repository,-38} {FormatCount(recipe.Shape.ParameterCount),8} {variant.Name,-8} {FormatBytes(total),10}  {Fit(variant, total, available)}");
        }
        Console.Out.WriteLine($"fit: weights × {RuntimeOverhead} (runtime, KV cache and activations) against free memory; a pool counts its heaviest node. "
            + "'edgenode models pull NAME' fetches one.");
        return 0;
    }

    /// <summary>
    /// The generated block of docs/models/NAME.md (or of the recipe table in docs/models/README.md for "index"), for
    /// ci/recipe-docs to put between the page's markers.
    /// </summary>
    private static int RecipePageBlock(string name, string? memoryText)
    {
        if (memoryText is not null)
            throw new UsageException("--page renders documentation from the recipe files alone; it takes no --memory");
        if (name == RecipePage.IndexName)
        {
            Console.Out.Write(RecipePage.RenderIndex(RecipeCatalog.All));
            return 0;
        }
        var recipe = RecipeCatalog.TryFind(name)
            ?? throw new UsageException($"--page {name}: no such recipe; known: {string.Join(", ", RecipeCatalog.Names)} (or {RecipePage.IndexName} for the recipe table)");
        Console.Out.Write(RecipePage.Render(recipe));
        return 0;
    }

    // Weights are most of a node's memory; the rest (ONNX Runtime's arenas, the KV cache at a few thousand positions,
    // activations) is taken as a fifth on top.
    private const double RuntimeOverhead = 1.2;

    private static string Fit(RecipeVariant variant, long totalBytes, long available)
    {
        if (totalBytes * RuntimeOverhead <= available)
            return "fits alone";
        foreach (var plan in variant.PoolPlans.Where(p => p.Nodes > 1).OrderBy(p => p.Nodes))
        {
            if (plan.MaxNodeBytes * RuntimeOverhead <= available)
                return $"pool of {plan.Nodes} (largest slice {FormatBytes(plan.MaxNodeBytes)})";
        }
        var largest = variant.PoolPlans.MaxBy(p => p.Nodes);
        return largest is null ? "does not fit" : $"more than {largest.Nodes} such nodes";
    }

    private static long ParseSize(string text)
    {
        var t = text.Trim().ToUpperInvariant().TrimEnd('B');
        var multiplier = t.EndsWith('K') ? 1L << 10 : t.EndsWith('M') ? 1L << 20 : t.EndsWith('G') ? 1L << 30 : t.EndsWith('T') ? 1L << 40 : 1L;
        var number = multiplier == 1 ? t : t[..^1];
        return double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
            ? (long)(value * multiplier)
            : throw new UsageException($"--memory '{text}' is not a size like 512M, 4G or 4294967296");
    }

    private static string FormatBytes(long bytes) => bytes >= 1L << 30
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB");

    private static string FormatCount(long count) => count switch
    {
        >= 1_000_000_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count / 1e9:0.00}B"),
        >= 1_000_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count / 1e6:0}M"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count / 1e3:0}K"),
    };

    private static int List(ArgumentReader args)
    {
        args.RejectUnknown();
        var rows = new List<(string Name, string Where, string What, long Bytes)>();
        foreach (var (root, label) in new[] { (AgentPaths.Models, "pulled"), (AgentPaths.Converted, "converted") })
        {
            if (!Directory.Exists(root))
                continue;
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                if (dir.EndsWith(".partial", StringComparison.Ordinal))
                    continue;
                var bytes = Directory.GetFiles(dir).Sum(f => new FileInfo(f).Length);
                var what = File.Exists(Path.Combine(dir, ModelManifest.FileName))
                    ? Describe(ModelManifest.Load(dir))
                    : "checkpoint";
                rows.Add((Path.GetFileName(dir), label, what, bytes));
            }
        }
        if (rows.Count == 0)
        {
            Console.Out.WriteLine($"no models under {AgentPaths.Home} yet: 'edgenode models pull NAME' or 'edgenode generate --model <checkpoint>'");
            Console.Out.WriteLine($"known to pull: {string.Join(", ", ModelCatalog.Names)} (recipes: 'edgenode models recipes')");
            return 0;
        }
        Console.Out.WriteLine($"{"NAME",-40} {"KIND",-10} {"SIZE",10}  MODEL");
        foreach (var r in rows)
            Console.Out.WriteLine($"{r.Name,-40} {r.Where,-10} {r.Bytes / 1048576.0,8:F1}MB  {r.What}");
        return 0;
    }

    private static string Describe(ModelManifest m) =>
        $"{m.Architecture} dim {m.Config.Dim}, {m.Config.Layers} layers, vocab {m.Config.VocabSize}, {m.Precision}, slices {string.Join(' ', m.Slices.Select(s => s.File))}";

    private static int Pull(ArgumentReader args)
    {
        var dir = args.String("dir") ?? AgentPaths.Models;
        args.RejectUnknown(maxPositionals: 1);
        var name = args.Positionals.Count == 1 ? args.Positionals[0] : throw new UsageException($"edgenode models pull needs a model name; known: {string.Join(", ", ModelCatalog.Names)}");
        using var bar = new ProgressBar(Console.Error);
        var folder = ModelPuller.Pull(name, dir, bar, CancellationToken.None);
        Console.Out.WriteLine(folder);
        return 0;
    }

    private static int Synth(ArgumentReader args)
    {
        var recipeName = args.String("recipe");
        if (recipeName is not null)
            return SynthRecipe(args, recipeName);
        var shape = args.Required("shape", $"NAME ({string.Join(", ", SyntheticCheckpoints.Shapes.Keys)}) or --recipe NAME");
        var seed = args.ULong("seed") ?? throw new UsageException("edgenode models synth needs --seed S (the same seed gives the same weights)");
        var outDir = args.Required("out", "DIR");
        var tokenizer = args.String("tokenizer") ?? DefaultLlama2Tokenizer();
        args.RejectUnknown();
        if (!SyntheticCheckpoints.Shapes.ContainsKey(shape))
            throw new UsageException($"unknown shape '{shape}'; known: {string.Join(", ", SyntheticCheckpoints.Shapes.Keys)}");
        SyntheticCheckpoints.WriteModelDirectory(shape, seed, outDir, tokenizer, new PercentProgress(Console.Error, $"edgenode: synth {shape}"));
        Console.Out.WriteLine($"{outDir}: random weights at the shape of {shape} (seed {seed})");
        return 0;
    }

    /// <summary>
    /// Random weights at the shape of a recipe's model, converted straight to slices (no checkpoint file in between:
    /// the shapes run to gigabytes and exist only to measure speed and memory).
    /// </summary>
    private static int SynthRecipe(ArgumentReader args, string recipeName)
    {
        var recipe = RecipeCatalog.TryFind(recipeName)
            ?? throw new UsageException($"unknown recipe '{recipeName}'; known: {string.Join(", ", RecipeCatalog.Names)}");
        var seed = args.ULong("seed") ?? throw new UsageException("edgenode models synth needs --seed S (the same seed gives the same weights)");
        var outDir = args.Required("out", "DIR");
        var context = args.Int("context", Math.Min(2048, recipe.Shape.MaxContext), 16, recipe.Shape.MaxContext);
        var tokenizer = args.String("tokenizer") ?? throw new UsageException(
            $"edgenode models synth --recipe {recipe.Name} needs --tokenizer F: a tokenizer.json or tokenizer.bin of at most {recipe.Shape.VocabSize} tokens (the family's own, or any smaller one)");
        var (conversion, _) = ConversionArguments.Read(args);
        args.RejectUnknown();
        // Checked before minutes of generating weights.
        _ = TextTokenizerLoader.Load(tokenizer, recipe.Shape.VocabSize);
        var label = $"random weights at the shape of {recipe.Name}";
        Console.Error.WriteLine($"edgenode: synth {recipe.Name}: generating {recipe.Shape.ParameterCount / 1e6:F0}M parameters (seed {seed})");
        var weights = SyntheticCheckpoints.Generate(recipe, seed, context);
        ModelConverter.Convert(weights, tokenizer, outDir, conversion with { Name = label }, new LineProgress(Console.Error, $"edgenode: synth {recipe.Name} "));
        Console.Out.WriteLine($"{outDir}: {label} (seed {seed}), {conversion.Precision.ToName()}");
        return 0;
    }

    private static int Eval(ArgumentReader args)
    {
        var model = args.Required("model", "<dir|checkpoint|name>");
        var textPath = args.Required("text", "FILE");
        var tokenizer = args.String("tokenizer");
        var window = args.Int("window", 0, 0);
        var precisions = ParsePrecisions(args.String("precision") ?? "fp32,int8,int4");
        var decodeTokens = args.Int("tokens", 64, 2, 8192);
        var label = args.String("label");
        var jsonOut = args.String("json-out");
        var (conversion, _) = ConversionArguments.Read(args, readPrecision: false);
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        if (!File.Exists(textPath))
            throw new FileNotFoundException($"evaluation text {textPath} not found");
        var report = QualityTable.Measure(new QualityTable.Request(model, tokenizer, precisions, conversion, inference, textPath, window, decodeTokens, label), Console.Error);
        QualityTable.Print(report, Console.Out);
        if (jsonOut is not null)
        {
            QualityTable.Write(report, jsonOut);
            Console.Out.WriteLine($"json: {jsonOut}");
        }
        return 0;
    }

    private static List<WeightPrecision> ParsePrecisions(string text)
    {
        var list = new List<WeightPrecision>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                list.Add(WeightPrecisionNames.Parse(part));
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--precision: {e.Message}");
            }
        }
        return list.Count > 0 ? list : throw new UsageException("--precision needs at least one of fp32, int8, int4 (comma-separated)");
    }

    private static int ExportGguf(ArgumentReader args)
    {
        var outPath = args.Required("out", "F.gguf");
        var tokenizer = args.String("tokenizer");
        var typeText = (args.String("type") ?? "f32").ToLowerInvariant();
        args.RejectUnknown(maxPositionals: 1);
        var input = args.Positionals.Count == 1 ? args.Positionals[0] : throw new UsageException("edgenode models export-gguf needs the checkpoint: edgenode models export-gguf <checkpoint> --out F.gguf");
        var type = typeText switch
        {
            "f32" => GgufTensorType.F32,
            "q8_0" => GgufTensorType.Q8_0,
            "q4_0" => GgufTensorType.Q4_0,
            _ => throw new UsageException($"--type '{typeText}' is not one of f32, q8_0, q4_0"),
        };
        GgufExport.Write(CheckpointSource.Open(input, tokenizer), outPath, type, Console.Error);
        Console.Out.WriteLine(outPath);
        return 0;
    }

    /// <summary>The Llama-2 tokenizer for synthetic shapes: EDGENODE_LLAMA2_TOKENIZER, else a pulled or shared copy.</summary>
    private static string DefaultLlama2Tokenizer()
    {
        var candidates = new List<string>();
        var env = Environment.GetEnvironmentVariable("EDGENODE_LLAMA2_TOKENIZER");
        if (!string.IsNullOrEmpty(env)) candidates.Add(env);
        var mirror = Environment.GetEnvironmentVariable("EDGENODE_MODEL_MIRROR");
        if (!string.IsNullOrEmpty(mirror)) candidates.Add(Path.Combine(mirror, "llama2-tokenizer", "tokenizer.bin"));
        candidates.Add(Path.Combine(AgentPaths.Models, "llama2-tokenizer", "tokenizer.bin"));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("the Llama-2 tokenizer (tokenizer.bin, 32000 tokens) was not found; pass --tokenizer FILE or set EDGENODE_LLAMA2_TOKENIZER");
    }
}
