using EdgeNode.Agent.Cli;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Recipes;
using EdgeNode.Models.Synthetic;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode models synth`: seeded random weights at the shape of a real model or of a recipe.</summary>
public static partial class ModelsCommand
{
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
        // The model's real context by default, so what runs on it meets the same context limits as the real weights.
        var context = args.Int("context", recipe.Shape.MaxContext, 16, recipe.Shape.MaxContext);
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
}
