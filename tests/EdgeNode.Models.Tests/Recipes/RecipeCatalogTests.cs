using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeNode.Models.Chat;
using EdgeNode.Models.Recipes;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Recipes;

public sealed class RecipeCatalogTests
{
    [Fact]
    public void Every_family_has_a_recipe_and_every_embedded_recipe_parses()
    {
        Assert.Equal(
            ["llama3.2-1b", "mistral-7b", "qwen2.5-0.5b", "qwen3-0.6b", "smollm2-360m", "stories260K", "tinyllama-1.1b"],
            RecipeCatalog.Names.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The counts the publishers quote on their model cards (SmolLM2: 362M; Qwen2.5: 0.49B; Qwen3: 0.6B; Llama 3.2:
    /// 1.23B; TinyLlama: 1.1B; Mistral 7B v0.3: 7.25B; stories260K: 260K). A shape typed wrong by one dimension
    /// misses them by far more than 1%.
    /// </summary>
    [Theory]
    [InlineData("smollm2-360m", "HuggingFaceTB/SmolLM2-360M-Instruct", 362_000_000L)]
    [InlineData("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", 494_000_000L)]
    [InlineData("qwen3-0.6b", "Qwen/Qwen3-0.6B", 600_000_000L)]
    [InlineData("llama3.2-1b", "unsloth/Llama-3.2-1B-Instruct", 1_230_000_000L)]
    [InlineData("tinyllama-1.1b", "TinyLlama/TinyLlama-1.1B-Chat-v1.0", 1_100_000_000L)]
    [InlineData("mistral-7b", "mistralai/Mistral-7B-Instruct-v0.3", 7_250_000_000L)]
    [InlineData("stories260K", "karpathy/tinyllamas", 260_000L)]
    public void The_shape_gives_the_published_parameter_count_within_one_percent(string name, string repository, long published)
    {
        var recipe = RecipeCatalog.Find(name);

        Assert.Equal(repository, recipe.Hub.Repository);
        Assert.Equal("main", recipe.Hub.Revision);
        Assert.Equal(published, recipe.PublishedParameters);
        var counted = recipe.Shape.ParameterCount;
        Assert.True(Math.Abs(counted - published) <= published / 100, $"{name}: shape gives {counted:N0} parameters, published {published:N0}");
    }

    [Fact]
    public void A_shape_without_tied_embeddings_counts_the_classifier_separately()
    {
        // TinyLlama's published 1.1B only works out with its own lm_head: 22 layers of 44,044,288 plus two 32000×2048 tables.
        var shape = RecipeCatalog.Find("tinyllama-1.1b").Shape;
        Assert.False(shape.TiedEmbeddings);
        Assert.Equal(22L * 44_044_288 + 2L * 32000 * 2048 + 2048, shape.ParameterCount);
    }

    public static TheoryData<string> RecipeNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in RecipeCatalog.Names)
            data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(RecipeNames))]
    public void Stored_pool_plans_are_what_the_planner_computes_and_cover_every_layer(string name)
    {
        var recipe = RecipeCatalog.Find(name);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
            RewritePlans(recipe);
        foreach (var variant in recipe.Variants)
        {
            Assert.Equal([1, 2, 3, 4], variant.PoolPlans.Select(p => p.Nodes));
            var footprint = WeightFootprint.Of(recipe.Shape, variant);
            foreach (var stored in variant.PoolPlans)
            {
                var computed = LayerSplitPlanner.Plan(footprint, recipe.Shape.Layers, stored.Nodes);
                Assert.Equal(Describe(computed), Describe(stored));
                Assert.Equal(Enumerable.Range(0, recipe.Shape.Layers), stored.Slices.SelectMany(s => Enumerable.Range(s.FirstLayer, s.EndLayer - s.FirstLayer)));
                Assert.True(stored.Slices[0].Embed && stored.Slices[^1].Head);
                Assert.Equal(footprint.TotalBytes, stored.Slices.Sum(s => s.WeightBytes));
            }
        }
    }

    /// <summary>
    /// After a change to a shape, a variant or the planner, `EDGENODE_UPDATE_RECIPES=1 dotnet test --filter Stored_pool_plans`
    /// writes the planner's plans back into the recipe files (then rebuild: they are embedded).
    /// </summary>
    private const string UpdateVariable = "EDGENODE_UPDATE_RECIPES";

    private static void RewritePlans(ModelRecipe recipe)
    {
        // Only "pool_plans" is replaced; the rest of the file stays as written.
        var path = Path.Combine(TestPaths.RepoRoot, "agent", "EdgeNode.Models", "Recipes", "Families", recipe.Name + ".json");
        var file = JsonNode.Parse(File.ReadAllText(path))!;
        var variants = file["variants"]!.AsArray();
        foreach (var variant in recipe.Variants)
        {
            var footprint = WeightFootprint.Of(recipe.Shape, variant);
            var plans = new JsonArray();
            foreach (var stored in variant.PoolPlans)
            {
                var plan = LayerSplitPlanner.Plan(footprint, recipe.Shape.Layers, stored.Nodes);
                var slices = new JsonArray();
                foreach (var slice in plan.Slices)
                {
                    slices.Add(new JsonObject
                    {
                        ["first_layer"] = slice.FirstLayer, ["end_layer"] = slice.EndLayer, ["embed"] = slice.Embed,
                        ["head"] = slice.Head, ["weight_bytes"] = slice.WeightBytes,
                    });
                }
                plans.Add(new JsonObject { ["nodes"] = plan.Nodes, ["slices"] = slices });
            }
            variants.Single(v => v!["name"]!.GetValue<string>() == variant.Name)!["pool_plans"] = plans;
        }
        File.WriteAllText(path, file.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    [Theory]
    [MemberData(nameof(RecipeNames))]
    public void The_chat_template_is_a_known_name_and_the_files_include_the_config_and_tokenizer(string name)
    {
        var recipe = RecipeCatalog.Find(name);
        var files = recipe.Hub.Files.Select(f => f.FileName).ToList();
        if (recipe.Format == "huggingface")
        {
            Assert.Contains(recipe.ChatTemplate, RecipeCatalog.KnownChatTemplates);
            // The name must be one the renderer has, not merely one the catalog lists.
            Assert.Equal(recipe.ChatTemplate, ChatTemplates.Get(recipe.ChatTemplate!).Name);
            Assert.Contains("config.json", files);
            Assert.Contains("tokenizer.json", files);
            Assert.Contains("tokenizer_config.json", files);
            Assert.Contains(files, f => f.EndsWith(".safetensors", StringComparison.Ordinal));
            Assert.Equal(files.Count(f => f.EndsWith(".safetensors", StringComparison.Ordinal)) > 1, files.Contains("model.safetensors.index.json"));
        }
        else
        {
            // llama2.c models are completion models with no chat format.
            Assert.Null(recipe.ChatTemplate);
        }
    }

    [Fact]
    public void A_recipe_round_trips_through_its_own_writer()
    {
        var recipe = RecipeCatalog.Find("qwen3-0.6b");
        var again = RecipeCatalog.Parse(Encoding.UTF8.GetBytes(RecipeCatalog.Serialize(recipe)), "round-trip");
        Assert.Equal(RecipeCatalog.Serialize(recipe), RecipeCatalog.Serialize(again));
        Assert.Equal(128, again.Shape.HeadSize);
        Assert.True(again.Shape.QkNorm);
    }

    [Fact]
    public void The_llama3_recipe_carries_its_rope_scaling()
    {
        var scaling = RecipeCatalog.Find("llama3.2-1b").Shape.RopeScaling;
        Assert.NotNull(scaling);
        Assert.Equal(("llama3", 32.0, 1.0, 4.0, 8192), (scaling.Type, scaling.Factor, scaling.LowFreqFactor, scaling.HighFreqFactor, scaling.OriginalMaxContext));
    }

    [Theory]
    [InlineData("\"chat_template\": \"chatml\"", "\"chat_template\": \"vicuna\"", "chat_template 'vicuna' is not one of")]
    [InlineData("\"kv_heads\": 2", "\"kv_heads\": 3", "shape.kv_heads = 3 does not divide shape.heads = 14")]
    [InlineData("\"precision\": \"int8\"", "\"precision\": \"int3\"", "variant int8: unknown precision 'int3'")]
    [InlineData("\"block_size\": 128", "\"block_size\": 100", "variant int8: block_size 100 is not a power of two")]
    [InlineData("\"end_layer\": 24", "\"end_layer\": 23", "pool plan for 1 nodes: the slices end at layer 23, the model has 24")]
    [InlineData("\"rope_theta\"", "\"rope_thetta\"", "$.shape.rope_thetta")]
    [InlineData("\"repository\": \"Qwen/Qwen2.5-0.5B-Instruct\",", "", "repository")]
    public void A_broken_recipe_is_an_error_naming_the_file_and_what_is_wrong(string from, string to, string expected)
    {
        var text = RecipeCatalog.Serialize(RecipeCatalog.Find("qwen2.5-0.5b"));
        Assert.Contains(from, text, StringComparison.Ordinal);
        var broken = ReplaceFirst(text, from, to);

        var error = Assert.Throws<ModelFormatException>(() => RecipeCatalog.Parse(Encoding.UTF8.GetBytes(broken), "broken.json"));

        Assert.StartsWith("recipe broken.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Measured_entries_take_the_documented_keys_and_must_name_a_variant_of_the_recipe()
    {
        const string entry = """
            [ { "variant": "int4", "device": "x86-64, 2 cores, 2 threads", "weights": "real weights",
              "perplexity": 9.626, "perplexity_text": "heldout-story.txt", "greedy_agreement": 0.93,
              "decode_tokens_per_second": 1234.5, "weight_bytes": 366592, "peak_rss_bytes": 52428800 } ]
            """;
        byte[] WithMeasured(string measured)
        {
            var file = JsonNode.Parse(RecipeCatalog.Serialize(RecipeCatalog.Find("stories260K")))!;
            file["measured"] = JsonNode.Parse(measured);
            return Encoding.UTF8.GetBytes(file.ToJsonString());
        }

        var recipe = RecipeCatalog.Parse(WithMeasured(entry), "measured.json");
        var measured = Assert.Single(recipe.Measured);
        Assert.Equal((9.626, 0.93, 1234.5, 366592L, 52428800L), (measured.Perplexity, measured.GreedyAgreement, measured.DecodeTokensPerSecond, measured.WeightBytes, measured.PeakRssBytes));

        var error = Assert.Throws<ModelFormatException>(() => RecipeCatalog.Parse(
            WithMeasured(entry.Replace("\"int4\"", "\"int2\"", StringComparison.Ordinal)), "measured.json"));
        Assert.Equal("recipe measured.json: measured names variant 'int2', which the recipe does not have", error.Message);
    }

    [Fact]
    public void An_unknown_recipe_lists_the_known_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => RecipeCatalog.Find("gpt-17"));
        Assert.Contains("unknown recipe 'gpt-17'; known: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("tinyllama-1.1b", error.Message, StringComparison.Ordinal);
    }

    private static string Describe(PoolPlan plan) =>
        string.Join(" | ", plan.Slices.Select(s => $"{s.FirstLayer}:{s.EndLayer} embed={s.Embed} head={s.Head} bytes={s.WeightBytes}"));

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return text[..at] + to + text[(at + from.Length)..];
    }
}
