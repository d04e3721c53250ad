namespace EdgeNode.Models.Recipes;

/// <summary>The runtime configuration of a recipe's shape.</summary>
public static class RecipeShapeConfig
{
    /// <summary>
    /// The <see cref="LlamaConfig"/> of <paramref name="shape"/> with a context of <paramref name="context"/> positions
    /// (the published maximum is often 32K–128K, which a board never holds; the rotary tables scale with it).
    /// </summary>
    public static LlamaConfig ToLlamaConfig(this RecipeShape shape, int context)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (context < 1 || context > shape.MaxContext)
            throw new ArgumentOutOfRangeException(nameof(context), context, $"the context must be 1..{shape.MaxContext} positions for this shape");
        var scaling = shape.RopeScaling;
        return new LlamaConfig(shape.Dim, shape.HiddenDim, shape.Layers, shape.Heads, shape.KvHeads, shape.VocabSize, context)
        {
            RopeTheta = (float)shape.RopeTheta,
            NormEps = (float)shape.NormEps,
            HeadSize = shape.HeadSize,
            RopeScaling = scaling is null
                ? null
                : new RopeScaling((float)scaling.Factor, (float)scaling.LowFreqFactor, (float)scaling.HighFreqFactor, scaling.OriginalMaxContext),
        };
    }
}
