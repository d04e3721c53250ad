using System.Text.Json;
using EdgeNode.Models.Chat;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Models.Recipes;

/// <summary>
/// The recipes built into EdgeNode (Recipes/Families/*.json, embedded in this assembly), read and checked once.
/// A recipe that does not parse or contradicts itself is an error naming the file and the field.
/// </summary>
public static class RecipeCatalog
{
    private const string ResourcePrefix = "recipes/";

    /// <summary>The chat formats <see cref="ChatTemplates"/> renders; a recipe naming another is rejected.</summary>
    public static IReadOnlyList<string> KnownChatTemplates => ChatTemplates.Names;

    public static IReadOnlyList<string> KnownFormats { get; } = ["huggingface", "llama2.c"];

    private static readonly Lazy<IReadOnlyList<ModelRecipe>> s_all = new(LoadEmbedded);

    public static IReadOnlyList<ModelRecipe> All => s_all.Value;

    public static IEnumerable<string> Names => All.Select(r => r.Name);

    public static ModelRecipe? TryFind(string name) =>
        All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));

    public static ModelRecipe Find(string name) =>
        TryFind(name) ?? throw new ArgumentException($"unknown recipe '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>Parses and checks one recipe; <paramref name="source"/> names it in errors (a file or resource name).</summary>
    public static ModelRecipe Parse(ReadOnlySpan<byte> json, string source)
    {
        ModelRecipe? recipe;
        try
        {
            recipe = JsonSerializer.Deserialize(json, RecipeJsonContext.Default.ModelRecipe);
        }
        catch (JsonException e)
        {
            var where = e.Path is null ? "" : $" at {e.Path}";
            throw new ModelFormatException($"recipe {source}: not a valid recipe{where}: {e.Message}", e);
        }
        if (recipe is null)
            throw new ModelFormatException($"recipe {source}: the file holds JSON null, expected a recipe object");
        Validate(recipe, source);
        return recipe;
    }

    /// <summary>Writes a recipe back out in the same snake_case form.</summary>
    public static string Serialize(ModelRecipe recipe) => JsonSerializer.Serialize(recipe, RecipeJsonContext.Default.ModelRecipe);

    /// <summary>A `measured` list in the recipe files' form.</summary>
    public static string SerializeMeasured(List<RecipeMeasurement> measured) => JsonSerializer.Serialize(measured, RecipeJsonContext.Default.ListRecipeMeasurement);

    private static IReadOnlyList<ModelRecipe> LoadEmbedded()
    {
        var assembly = typeof(RecipeCatalog).Assembly;
        var recipes = new List<ModelRecipe>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new ModelFormatException($"recipe {resource}: listed in the assembly but cannot be opened");
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var file = resource[ResourcePrefix.Length..];
            var recipe = Parse(buffer.ToArray(), file);
            if (!string.Equals(recipe.Name + ".json", file, StringComparison.Ordinal))
                throw new ModelFormatException($"recipe {file}: name '{recipe.Name}' differs from the file name; name the file {recipe.Name}.json");
            recipes.Add(recipe);
        }
        return recipes;
    }

    private static void Validate(ModelRecipe recipe, string source)
    {
        void Fail(string message) => throw new ModelFormatException($"recipe {source}: {message}");

        if (!KnownFormats.Contains(recipe.Format))
            Fail($"format '{recipe.Format}' is not one of {string.Join(", ", KnownFormats)}");
        if (recipe.ChatTemplate is { } template && !KnownChatTemplates.Contains(template))
            Fail($"chat_template '{template}' is not one of {string.Join(", ", KnownChatTemplates)} (or null for a completion model)");
        if (!recipe.Hub.Repository.Contains('/', StringComparison.Ordinal))
            Fail($"hub.repository '{recipe.Hub.Repository}' is not of the form owner/name");
        if (recipe.Hub.Files.Count == 0)
            Fail("hub.files is empty; list the files to fetch");
        foreach (var file in recipe.Hub.Files)
        {
            if (file.Sha256 is { } sha && (sha.Length != 64 || !sha.All(char.IsAsciiHexDigit)))
                Fail($"hub.files '{file.Path}': sha256 '{sha}' is not 64 hex digits");
        }
        if (recipe.Hub.Files.GroupBy(f => f.FileName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } clash)
            Fail($"hub.files has two files named {clash.Key}; the pulled folder is flat, so names must differ");

        var s = recipe.Shape;
        foreach (var (key, value) in new[] { ("dim", s.Dim), ("hidden_dim", s.HiddenDim), ("layers", s.Layers), ("heads", s.Heads),
                     ("kv_heads", s.KvHeads), ("head_size", s.HeadSize), ("vocab_size", s.VocabSize), ("max_context", s.MaxContext) })
        {
            if (value <= 0)
                Fail($"shape.{key} = {value}; it must be positive");
        }
        if (s.Heads % s.KvHeads != 0)
            Fail($"shape.kv_heads = {s.KvHeads} does not divide shape.heads = {s.Heads}");
        if (s.HeadSize % 2 != 0)
            Fail($"shape.head_size = {s.HeadSize} is odd, but RoPE rotates pairs");
        if (s.RopeTheta <= 0 || s.NormEps <= 0)
            Fail($"shape.rope_theta ({s.RopeTheta}) and shape.norm_eps ({s.NormEps}) must be positive");
        if (s.RopeScaling is { } scaling && scaling.Type != "llama3")
            Fail($"shape.rope_scaling.type '{scaling.Type}' is not supported; only llama3 is");

        if (recipe.Variants.Count == 0)
            Fail("variants is empty; a recipe recommends at least one");
        foreach (var variant in recipe.Variants)
            ValidateVariant(variant, s, Fail);
        foreach (var measurement in recipe.Measured)
        {
            if (!recipe.Variants.Exists(v => v.Name == measurement.Variant))
                Fail($"measured names variant '{measurement.Variant}', which the recipe does not have");
        }
    }

    private static void ValidateVariant(RecipeVariant variant, RecipeShape shape, Action<string> fail)
    {
        var where = $"variant {variant.Name}";
        WeightPrecision precision;
        try
        {
            precision = variant.WeightPrecision;
        }
        catch (ArgumentException e)
        {
            fail($"{where}: {e.Message}");
            return;
        }
        var b = variant.BlockSize;
        if (precision == WeightPrecision.Fp32 && (b != 0 || variant.Asymmetric || variant.ActivationAware))
            fail($"{where}: fp32 takes no block_size, asymmetric or activation_aware");
        if (precision != WeightPrecision.Fp32 && (b < 16 || b > 256 || (b & (b - 1)) != 0))
            fail($"{where}: block_size {b} is not a power of two from 16 to 256");
        foreach (var plan in variant.PoolPlans)
        {
            var planWhere = $"{where}, pool plan for {plan.Nodes} nodes";
            if (plan.Slices.Count != plan.Nodes)
                fail($"{planWhere}: {plan.Slices.Count} slices, expected one per node");
            var next = 0;
            for (var i = 0; i < plan.Slices.Count; i++)
            {
                var slice = plan.Slices[i];
                if (slice.FirstLayer != next || slice.EndLayer <= slice.FirstLayer)
                    fail($"{planWhere}: slice {i} covers {slice.FirstLayer}:{slice.EndLayer}, expected a non-empty range starting at layer {next}");
                if (slice.Embed != (i == 0) || slice.Head != (i == plan.Slices.Count - 1))
                    fail($"{planWhere}: the embedding belongs on the first slice and the head on the last (slice {i} is wrong)");
                next = slice.EndLayer;
            }
            if (next != shape.Layers)
                fail($"{planWhere}: the slices end at layer {next}, the model has {shape.Layers}");
        }
    }
}
