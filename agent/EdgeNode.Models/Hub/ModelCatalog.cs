using EdgeNode.Models.Recipes;

namespace EdgeNode.Models.Hub;

/// <summary>
/// The models EdgeNode can pull by name: the entries below, then every recipe (<see cref="RecipeCatalog"/>). Names
/// are also the folder names used under the models directory and in a local mirror (the layout of the shared models
/// folder CI uses).
/// </summary>
public static class ModelCatalog
{
    private const string TinyLlamas = "karpathy/tinyllamas";

    // karpathy/llama2.c at a fixed commit: the Llama 2 tokenizer in llama2.c and SentencePiece form.
    // It lives in the GitHub repository, not on the hub.
    private const string Llama2cCommit = "350e04fe35433e6d2941dce5a1f53308f87058eb";

    private static readonly CatalogFile s_tok512 = new(
        "tok512.bin", "stories260K/tok512.bin", null,
        "037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312", "stories260K/tok512.bin");

    private static readonly CatalogFile s_llama2TokenizerBin = new(
        "tokenizer.bin", null, Llama2cRaw("tokenizer.bin"),
        "50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361", "llama2-tokenizer/tokenizer.bin");

    private static readonly CatalogFile s_llama2TokenizerModel = new(
        "tokenizer.model", null, Llama2cRaw("tokenizer.model"),
        "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347", "llama2-tokenizer/tokenizer.model");

    public static IReadOnlyList<CatalogModel> All { get; } =
    [
        new("stories260K", "TinyStories 260K (dim 64, 5 layers, GQA 8/4), tokenizer tok512", TinyLlamas, "main",
        [
            new("stories260K.bin", "stories260K/stories260K.bin", null,
                "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696", "stories260K/stories260K.bin"),
            s_tok512,
        ]),
        // No sha256 is pinned for stories15M: the hub's own LFS sha256 (X-Linked-Etag) is the check.
        new("stories15M", "TinyStories 15M (dim 288, 6 layers), Llama 2 tokenizer", TinyLlamas, "main",
        [
            new("stories15M.bin", "stories15M.bin", null, null, "stories15M/stories15M.bin"),
            s_llama2TokenizerBin,
        ]),
        new("llama2xs-tok512-280K", "third-party TinyStories 280K (dim 64, 5 layers), shares tok512 with stories260K",
            null, "", [new("model.bin", null, null,
                "b1e0376c2456e18f294ffe062a2b44e5cb2e207c8aa53538209d2689122ea641", "llama2xs-tok512-280K/model.bin"), s_tok512],
            NotOnHubReason: "it is not published on the Hugging Face hub (it was a file in the GitHub repository "
                + "saltyduckegg/llama2xs.c, since deleted)"),
        new("llama2-tokenizer", "the Llama 2 tokenizer (32000 tokens) in llama2.c and SentencePiece form", null, "",
            [s_llama2TokenizerBin, s_llama2TokenizerModel]),
    ];

    /// <summary>The entries above, then the recipes that are not among them.</summary>
    public static IEnumerable<string> Names =>
        All.Select(m => m.Name).Concat(RecipeCatalog.Names.Where(r => !All.Any(m => string.Equals(m.Name, r, StringComparison.OrdinalIgnoreCase))));

    /// <summary>The catalog entry for <paramref name="name"/> (case-insensitive), else the recipe's, or null.</summary>
    public static CatalogModel? TryFind(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? (RecipeCatalog.TryFind(name) is { } recipe ? FromRecipe(recipe) : null);

    /// <summary>
    /// What to fetch for a recipe: its hub files into a flat folder named after it (a mirror holds them as
    /// &lt;mirror&gt;/&lt;recipe&gt;/&lt;file&gt;), checked against pinned hashes or the hub's listing.
    /// </summary>
    public static CatalogModel FromRecipe(ModelRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var files = recipe.Hub.Files.Select(f => new CatalogFile(f.FileName, f.Path, null, f.Sha256, $"{recipe.Name}/{f.FileName}")).ToList();
        return new CatalogModel(recipe.Name, recipe.Summary, recipe.Hub.Repository, recipe.Hub.Revision, files, HashesFromListing: true);
    }

    /// <summary>The catalog entry for <paramref name="name"/>; an unknown name is an error listing the known ones.</summary>
    public static CatalogModel Find(string name) =>
        TryFind(name) ?? throw new ModelPullException($"unknown model '{name}'; known: {string.Join(", ", Names)}");

    private static Uri Llama2cRaw(string file) =>
        new($"https://raw.githubusercontent.com/karpathy/llama2.c/{Llama2cCommit}/{file}");
}
