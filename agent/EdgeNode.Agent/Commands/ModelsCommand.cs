using EdgeNode.Agent.Cli;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Gguf;
using EdgeNode.Models.Hub;
using EdgeNode.Models.Import;
using EdgeNode.Models.Recipes;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode models ...`: convert, list, recipes, pull, synth, export-gguf, eval.</summary>
public static partial class ModelsCommand
{
    private const string Usage = """
        usage: edgenode models <verb> [options]

          convert SOURCE [options]      SOURCE (model.bin, model.gguf, a Hugging Face folder or a pulled name) to ONNX slices
          list                          pulled and converted models
          recipes [options]             recipes with repository, size and whether they fit this device
          pull NAME [options]           a catalog model or a recipe (EDGENODE_MODEL_MIRROR=folder pulls from a local mirror)
          synth [options]               random weights at a known shape or a recipe's, converted to slices (speed, memory)
          export-gguf CHECKPOINT [options]   a llama2.c checkpoint as GGUF
          eval [options]                quality against speed and memory: perplexity on a text (teacher forcing), top-1
                                        agreement with fp32, decode tok/s, weight bytes, peak RSS of a fresh process;
                                        one row per precision

        convert:
          --out DIR          where the slices and manifest.json go (required)
          --tokenizer F      tokenizer, when not beside the checkpoint
          --layers a:b[,b:c] layer ranges, one slice each (default: all layers in one slice)
          --slices S[,S]     build only these slices, reading only their tensors (a pool node's share): each
                             S is embed, head, a:b or a combination such as embed+0:3 or 6:9+head; the
                             tokenizer comes along when a slice holds the embedding or the head
          --recipe NAME      the recipe's precision, block size, zero points, scaling, slices and chat format
          --variant V        with --recipe: which of its variants (default: the recipe's first)
          --nodes N          with --recipe: slices for N nodes (default 1)
          --chat-template F  the chat format recorded in manifest.json (default: the recipe's, else the one
                             tokenizer_config.json names)

        recipes:
          --memory SIZE      whether each recipe fits SIZE (e.g. 4G) instead of this device's memory
          --context N        count the KV cache at N positions (default: the context each recipe would get)
          --page NAME        print the generated markdown of docs/models/NAME.md
          --measured NAME    print recipe NAME's measured list, computed from the run records (needs --measurements)
          --measurements DIR the folder of run records (docs/measurements)

        pull:
          --dir DIR          where the model goes (default: $EDGENODE_HOME/models)

        synth:
          --shape NAME       stories15M, stories110M, tinyllama-1.1b or llama-3.2-1b
          --recipe NAME      a recipe's shape instead of --shape (needs --tokenizer)
          --seed S           the same seed gives the same weights (required)
          --out DIR          where the slices go (required)
          --tokenizer F      tokenizer (with --shape, default: EDGENODE_LLAMA2_TOKENIZER, else llama2-tokenizer/ in the mirror or $EDGENODE_HOME/models)
          --context N        with --recipe: positions the slices hold (default: the recipe's context)

        export-gguf:
          --out F.gguf       the GGUF file to write (required)
          --tokenizer F      tokenizer, when not beside the checkpoint
          --type T           f32 | q8_0 | q4_0 (default f32)

        eval:
          --model M          converted folder, checkpoint or pulled name (required)
          --text FILE        the text to measure perplexity on (required)
          --precision P[,P…] precisions to compare (default fp32,int8,int4)
          --window N         positions per evaluation window (default: the model's context)
          --tokens N         tokens decoded for the speed column (default 64)
          --label TEXT       label for the table and JSON
          --json-out F       where to write the JSON (default: none)
          --tokenizer F      tokenizer, when not beside the checkpoint

        conversion (convert, synth, eval):

        """ + ConversionArguments.Help + """

        runtime (eval):

        """ + InferenceArguments.Help;

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
        var slicesText = args.String("slices");
        args.RejectUnknown(maxPositionals: 1);
        var input = args.Positionals.Count == 1 ? args.Positionals[0] : throw new UsageException("edgenode models convert needs the checkpoint: edgenode models convert <model.bin|model.gguf|hf-folder> --out DIR");
        // Never overwrite a folder that holds something other than an earlier conversion.
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !File.Exists(Path.Combine(outDir, ModelManifest.FileName)))
            throw new ArgumentException($"--out {outDir} exists and is not an earlier conversion; choose an empty or new folder");
        // A bare name is a model pulled earlier (e.g. by 'models pull tinyllama-1.1b').
        if (!File.Exists(input) && !Directory.Exists(input) && Directory.Exists(Path.Combine(AgentPaths.Models, input)))
            input = Path.Combine(AgentPaths.Models, input);
        var source = CheckpointSource.Open(input, tokenizer);
        if (slicesText is not null)
        {
            if (recipeName is not null || layersText is not null || nodes != 0)
                throw new UsageException("--slices names the slices to build: drop --layers, --recipe and --nodes");
            return ConvertSlices(source, slicesText, outDir, conversion);
        }

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

    /// <summary>`models convert --slices`: only the named slices, from only their tensors, so memory follows the slices.</summary>
    private static int ConvertSlices(CheckpointSource source, string slicesText, string outDir, ConversionOptions conversion)
    {
        var specs = SliceSpec.ParseList(slicesText, CheckpointReader.ReadConfig(source.CheckpointPath).Layers);
        var options = ModelResolver.ForSource(source, conversion with { Name = source.Name });
        var scratch = outDir.TrimEnd('/') + ".scratch";
        Directory.CreateDirectory(scratch);
        try
        {
            var tokenizer = specs.Any(s => s.Embed || s.Head) ? source.TokenizerPath(scratch) : null;
            var manifest = SliceBuilder.Build(source.CheckpointPath, tokenizer, specs, outDir, options,
                new LineProgress(Console.Error, "edgenode:   ", $"edgenode: building slices {string.Join(", ", specs)} of {source.Name} ({source.Format}, {options.Precision.ToName()}) into {outDir}"));
            foreach (var file in manifest.Files)
                Console.Out.WriteLine($"{file.Sha256}  {file.Bytes,12}  {file.Path}");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
        return 0;
    }

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
        var pulled = ModelPuller.Pull(name, dir, bar, CancellationToken.None);
        if (pulled.Unverified is { Count: > 0 } unverified)
            Console.Error.WriteLine(UnverifiedNotice(pulled.Name, unverified));
        Console.Out.WriteLine(pulled.Directory);
        return 0;
    }

    /// <summary>The line a pull prints when only the mirror vouches for some files.</summary>
    public static string UnverifiedNotice(string model, IReadOnlyList<PulledFile> unverified) =>
        $"edgenode: {string.Join(", ", unverified.Select(f => Path.GetFileName(f.Path)))} of {model}: unverified — no hash is pinned for "
        + (unverified.Count == 1 ? "it" : "them")
        + $" and the mirror can only show its copy is intact; pull without {HubSettings.MirrorVariable} to check against the hub's hashes";

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
