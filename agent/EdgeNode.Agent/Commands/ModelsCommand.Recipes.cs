using EdgeNode.Agent.Cli;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode models recipes`: the recipe table with size and fit, and the generated part of a recipe page.</summary>
public static partial class ModelsCommand
{
    /// <summary>
    /// The recipes, their size at the default variant, and whether that fits with its KV cache: alone on this device (or
    /// on one with --memory bytes free), else the smallest pool of such devices whose heaviest node fits. The context is
    /// --context when given, else the smallest of the model's, EDGENODE_CONTEXT and what memory leaves for the KV cache.
    /// </summary>
    private static int Recipes(ArgumentReader args)
    {
        var memoryText = args.String("memory");
        var page = args.String("page");
        var measured = args.String("measured");
        var measurements = args.String("measurements");
        var requested = args.Int("context", 0, 1);
        args.RejectUnknown();
        if (measured is not null)
            return MeasuredList(measured, measurements, memoryText ?? page);
        if (page is not null)
            return RecipePageBlock(page, memoryText);
        var available = DeviceContext.Available(memoryText);
        var device = memoryText is not null ? $"a device with {ContextBudget.Size(available)} free" : $"this device ({ContextBudget.Size(available)} available)";
        var setting = DeviceContext.Setting();
        Console.Out.WriteLine($"{"NAME",-16} {"REPOSITORY",-38} {"PARAMS",8} {"VARIANT",-8} {"WEIGHTS",10}  FIT ON {device.ToUpperInvariant()}");
        foreach (var recipe in RecipeCatalog.All)
        {
            var variant = recipe.DefaultVariant;
            var total = WeightFootprint.Of(recipe.Shape, variant).TotalBytes;
            Console.Out.WriteLine($"{recipe.Name,-16} {recipe.Hub.Repository,-38} {FormatCount(recipe.Shape.ParameterCount),8} {variant.Name,-8} {ContextBudget.Size(total),10}  {Fit(recipe.Shape, variant, total, available, setting, requested)}");
        }
        Console.Out.WriteLine($"fit: weights × {ContextBudget.RuntimeOverhead.ToString(System.Globalization.CultureInfo.InvariantCulture)} (runtime, activations) + KV cache at the context (fp16 for int4 variants, fp32 otherwise), against free memory; "
            + $"context: {(requested > 0 ? $"--context {requested}" : $"the smallest of the model's, {DeviceContext.SettingVariable} and what memory leaves, at least {ContextBudget.MinimumContext}")}; "
            + "a pool counts its heaviest node. 'edgenode models pull NAME' fetches one.");
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

    /// <summary>
    /// The `measured` list recipe NAME gets from the records in --measurements (docs/measurements/ of a checkout), as
    /// JSON, for ci/recipe-store-measured to write into the recipe file.
    /// </summary>
    private static int MeasuredList(string name, string? folder, string? other)
    {
        if (other is not null)
            throw new UsageException("--measured derives a recipe's measured list alone; it takes no --memory or --page");
        if (folder is null)
            throw new UsageException("--measured needs --measurements DIR, the docs/measurements folder of a checkout");
        var recipe = RecipeCatalog.TryFind(name)
            ?? throw new UsageException($"--measured {name}: no such recipe; known: {string.Join(", ", RecipeCatalog.Names)}");
        Console.Out.WriteLine(RecipeCatalog.SerializeMeasured(RecipeMeasurementStore.Derive(recipe, RecipeMeasurementStore.LoadFolder(folder))));
        return 0;
    }

    /// <summary>The fit cell of one recipe: alone, or the smallest pool whose every node holds its weights and its layers' KV cache.</summary>
    internal static string Fit(RecipeShape shape, RecipeVariant variant, long totalBytes, long available, int? setting, int requested)
    {
        if (requested > shape.MaxContext)
            return $"--context {requested} is above its {shape.MaxContext}";
        var kvPerLayer = ContextBudget.KvBytesPerPositionOf(1, shape.KvHeads, shape.HeadSize, KvPrecisionNames.DefaultFor(variant.WeightPrecision));
        var alone = ContextBudget.Choose(shape.MaxContext, setting, available, totalBytes, kvPerLayer * shape.Layers);
        if (Enough(alone.MemoryLimit, alone.Positions, shape.MaxContext, requested))
            return $"fits alone, context {(requested > 0 ? requested : alone.Positions)}";
        foreach (var plan in variant.PoolPlans.Where(p => p.Nodes > 1).OrderBy(p => p.Nodes))
        {
            // The pool's context is the one its tightest node allows.
            var memory = plan.Slices.Min(s => ContextBudget.MemoryLimitOf(available, s.WeightBytes, kvPerLayer * (s.EndLayer - s.FirstLayer)));
            var positions = Math.Min(shape.MaxContext, Math.Min(setting ?? int.MaxValue, memory));
            if (Enough(memory, positions, shape.MaxContext, requested))
                return $"pool of {plan.Nodes} (largest slice {ContextBudget.Size(plan.MaxNodeBytes)}), context {(requested > 0 ? requested : positions)}";
        }
        var largest = variant.PoolPlans.MaxBy(p => p.Nodes);
        return largest is null ? "does not fit" : $"more than {largest.Nodes} such nodes";

        static bool Enough(int memoryLimit, int positions, int modelLimit, int requested) =>
            requested > 0 ? requested <= memoryLimit : positions >= Math.Min(ContextBudget.MinimumContext, modelLimit);
    }

    private static string FormatCount(long count) => count switch
    {
        >= 1_000_000_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count / 1e9:0.00}B"),
        >= 1_000_000 => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count / 1e6:0}M"),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count / 1e3:0}K"),
    };
}
