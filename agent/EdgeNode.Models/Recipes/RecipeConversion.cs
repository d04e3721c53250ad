using EdgeNode.Models.Conversion;

namespace EdgeNode.Models.Recipes;

/// <summary>The conversion a recipe's variant and pool plan stand for, on top of the options the user chose.</summary>
public static class RecipeConversion
{
    /// <summary>
    /// <paramref name="chosen"/> with the variant's precision, block size and zero points, the plan's layer ranges and
    /// the recipe's chat format. The user's zero points and chat format win: both are deliberate choices the recipe
    /// cannot know better (a fine-tune may speak another format than its base).
    /// </summary>
    public static ConversionOptions Apply(ModelRecipe recipe, RecipeVariant variant, PoolPlan plan, ConversionOptions chosen)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(chosen);
        return chosen with
        {
            Precision = variant.WeightPrecision,
            BlockSize = variant.BlockSize == 0 ? null : variant.BlockSize,
            Asymmetric = chosen.Asymmetric || variant.Asymmetric,
            LayerRanges = plan.Slices.Select(s => (s.FirstLayer, s.EndLayer)).ToList(),
            RecipeName = recipe.Name,
            RecipeVariant = variant.Name,
            ChatTemplate = chosen.ChatTemplate ?? recipe.ChatTemplate,
        };
    }
}
