using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeNode.Models.Recipes;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Recipes;

/// <summary>
/// The generated parts of docs/models against the recipe files they come from: a page whose block differs from what
/// the renderer makes of the recipes now has drifted and fails here until `bash ci/recipe-docs` rewrites it.
/// </summary>
public sealed class RecipePageTests
{
    private static readonly string s_docs = Path.Combine(TestPaths.RepoRoot, "docs", "models");

    public static TheoryData<string> RecipeNames => new(RecipeCatalog.Names);

    [Theory]
    [MemberData(nameof(RecipeNames))]
    public void The_page_carries_what_the_recipe_renders_now(string name)
    {
        var path = Path.Combine(s_docs, name + ".md");
        Assert.True(File.Exists(path), $"{path} is missing; run bash ci/recipe-docs");
        var page = File.ReadAllText(path);
        var block = RecipePage.Extract(page, RecipePage.BeginMarker(name), path);
        Assert.True(block == RecipePage.Render(RecipeCatalog.Find(name)), $"{path} differs from recipe {name}; run bash ci/recipe-docs");
        // The hand-written description stays outside the block, under the title.
        Assert.StartsWith($"# {name}\n\n", page, StringComparison.Ordinal);
        Assert.True(page.IndexOf(block, StringComparison.Ordinal) > name.Length + 40, $"{path}: no description above the generated block");
    }

    [Fact]
    public void The_recipe_table_carries_what_the_recipes_render_now()
    {
        var path = Path.Combine(s_docs, "README.md");
        var block = RecipePage.Extract(File.ReadAllText(path), RecipePage.BeginMarker(RecipePage.IndexName), path);
        Assert.True(block == RecipePage.RenderIndex(RecipeCatalog.All), $"{path}'s recipe table differs from the recipes; run bash ci/recipe-docs");
        foreach (var name in RecipeCatalog.Names)
            Assert.Contains($"[{name}]({name}.md)", block, StringComparison.Ordinal);
    }

    [Fact]
    public void The_page_shows_the_recipe_files_plans_and_chat_format()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(RecipeFile("tinyllama-1.1b")));
        var page = RecipePage.Render(RecipeCatalog.Find("tinyllama-1.1b"));
        Assert.Contains($"`{json.RootElement.GetProperty("chat_template").GetString()}`", Section(page, "Chat template"), StringComparison.Ordinal);
        var plans = Section(page, "Pool plans");
        foreach (var variant in json.RootElement.GetProperty("variants").EnumerateArray())
        {
            Assert.Contains($"`{variant.GetProperty("name").GetString()}`:", plans, StringComparison.Ordinal);
            foreach (var plan in variant.GetProperty("pool_plans").EnumerateArray())
            {
                var ranges = string.Join(',', plan.GetProperty("slices").EnumerateArray().Select(s => $"{s.GetProperty("first_layer").GetInt32()}:{s.GetProperty("end_layer").GetInt32()}"));
                Assert.Contains($"| {plan.GetProperty("nodes").GetInt32()} | `{ranges}` |", plans, StringComparison.Ordinal);
            }
        }
        var measured = Section(page, "Measured");
        foreach (var entry in json.RootElement.GetProperty("measured").EnumerateArray())
            Assert.Contains($"| `{entry.GetProperty("variant").GetString()}` | {entry.GetProperty("weights").GetString()} |", measured, StringComparison.Ordinal);
        // A recipe no run has measured says so.
        Assert.Contains("Not measured yet", Section(RecipePage.Render(RecipeCatalog.Find("mistral-7b")), "Measured"), StringComparison.Ordinal);
        Assert.Contains("None: a completion model", Section(RecipePage.Render(RecipeCatalog.Find("stories260K")), "Chat template"), StringComparison.Ordinal);
    }

    [Fact]
    public void Measured_entries_become_rows_that_say_which_weights_they_ran_on()
    {
        var file = JsonNode.Parse(File.ReadAllText(RecipeFile("tinyllama-1.1b")))!;
        file["measured"] = JsonNode.Parse("""
            [
              { "variant": "int4", "device": "x86-64, 2 cores, 2 threads", "weights": "random weights at the shape of TinyLlama-1.1B",
                "perplexity": null, "perplexity_text": null, "greedy_agreement": null,
                "decode_tokens_per_second": 32.84, "weight_bytes": 844374016, "peak_rss_bytes": 1288490188,
                "date": "2026-11-22", "source": "docs/measurements/recipe-tinyllama-1.1b-int4-2026-11-22.json" },
              { "variant": "fp32", "device": "arm64 board", "weights": "real weights",
                "perplexity": 7.12345, "perplexity_text": "heldout-story.txt", "greedy_agreement": 0.9372,
                "decode_tokens_per_second": null, "weight_bytes": null, "peak_rss_bytes": null, "date": null, "source": null }
            ]
            """);
        var recipe = RecipeCatalog.Parse(System.Text.Encoding.UTF8.GetBytes(file.ToJsonString()), "tinyllama-1.1b.json");
        var measured = Section(RecipePage.Render(recipe), "Measured");

        Assert.DoesNotContain("Not measured yet", measured, StringComparison.Ordinal);
        Assert.Contains("| `int4` | random weights at the shape of TinyLlama-1.1B | x86-64, 2 cores, 2 threads | 2026-11-22 | — | — | 32.8 | 805.3 MiB | 1.20 GiB | [recipe-tinyllama-1.1b-int4-2026-11-22.json](../measurements/recipe-tinyllama-1.1b-int4-2026-11-22.json) |", measured, StringComparison.Ordinal);
        Assert.Contains("| `fp32` | real weights | arm64 board | — | 7.123 (heldout-story.txt) | 93.7% | — | — | — | — |", measured, StringComparison.Ordinal);
        // Random-weight rows carry the warning that their quality numbers mean nothing.
        Assert.Contains("say nothing about the model's quality", measured, StringComparison.Ordinal);
        // The index counts the runs.
        Assert.Contains("| 2 runs |", RecipePage.RenderIndex([recipe]), StringComparison.Ordinal);
    }

    [Fact]
    public void Rewriting_a_page_keeps_everything_outside_the_block()
    {
        var recipe = RecipeCatalog.Find("stories260K");
        var marker = RecipePage.BeginMarker(recipe.Name);
        var page = $"# stories260K\n\nHand-written words.\n\n{marker}\nstale table\n{RecipePage.EndMarker}\n\nA closing note.\n";
        var rewritten = RecipePage.Replace(page, RecipePage.Render(recipe), "stories260K.md");
        Assert.Equal($"# stories260K\n\nHand-written words.\n\n{RecipePage.Render(recipe)}\nA closing note.\n", rewritten);
        Assert.Equal(rewritten, RecipePage.Replace(rewritten, RecipePage.Render(recipe), "stories260K.md"));
    }

    [Theory]
    [InlineData("no block", "no line '<!-- generated: edgenode models recipes --page stories260K; do not edit by hand -->'")]
    [InlineData("unclosed", "the generated block is never closed")]
    [InlineData("twice", "appears twice")]
    public void A_page_without_a_proper_block_is_named_with_what_is_wrong(string kind, string expected)
    {
        var marker = RecipePage.BeginMarker("stories260K");
        var page = kind switch
        {
            "no block" => "# stories260K\n\nwords\n",
            "unclosed" => $"# stories260K\n\n{marker}\nold\n",
            _ => $"# stories260K\n\n{marker}\nold\n{RecipePage.EndMarker}\n{marker}\n{RecipePage.EndMarker}\n",
        };
        var error = Assert.Throws<ModelFormatException>(() => RecipePage.Replace(page, RecipePage.Render(RecipeCatalog.Find("stories260K")), "docs/models/stories260K.md"));
        Assert.StartsWith("docs/models/stories260K.md: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private static string RecipeFile(string name) =>
        Path.Combine(TestPaths.RepoRoot, "agent", "EdgeNode.Models", "Recipes", "Families", name + ".json");

    /// <summary>The text of "## <paramref name="heading"/>" up to the next heading or the end of the block.</summary>
    private static string Section(string page, string heading)
    {
        var start = page.IndexOf($"## {heading}\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section {heading}");
        var next = page.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
        return next < 0 ? page[start..] : page[start..next];
    }
}
