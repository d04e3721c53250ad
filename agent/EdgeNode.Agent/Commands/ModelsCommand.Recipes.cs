using EdgeNode.Agent.Cli;
using EdgeNode.Hardware;
using EdgeNode.Models.Recipes;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode models recipes`: the recipe table with size and fit, and the generated part of a recipe page.</summary>
public static partial class ModelsCommand
{
    /// <summary>
    /// The recipes, their size at the default variant, and whether that fits: alone on this device (or on one with
    /// --memory bytes free), else the smallest pool of such devices whose heaviest node fits.
    /// </summary>
    private static int Recipes(ArgumentReader args)
    {
        var memoryText = args.String("memory");
        var page = args.String("page");
        var measured = args.String("measured");
        var measurements = args.String("measurements");
        args.RejectUnknown();
        if (measured is not null)
            return MeasuredList(measured, measurements, memoryText ?? page);
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
}
