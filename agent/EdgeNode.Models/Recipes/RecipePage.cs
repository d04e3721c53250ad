using System.Globalization;
using System.Text;

namespace EdgeNode.Models.Recipes;

/// <summary>
/// The parts of docs/models that are facts of the recipe files (source, shape, chat format, variants, pool plans,
/// measured results, the recipe table), rendered as markdown between markers. Pages keep their hand-written prose
/// outside the markers; everything inside is rewritten from the recipes, so the docs cannot drift from them.
/// </summary>
public static class RecipePage
{
    public const string EndMarker = "<!-- /generated -->";

    /// <summary>The index block's name: the recipe table of docs/models/README.md.</summary>
    public const string IndexName = "index";

    /// <summary>The line that opens the generated block of <paramref name="blockName"/> (a recipe name or <see cref="IndexName"/>).</summary>
    public static string BeginMarker(string blockName) => blockName == IndexName
        ? "<!-- generated: edgenode models recipes --page index; do not edit by hand -->"
        : $"<!-- generated: edgenode models recipes --page {blockName}; do not edit by hand -->";

    /// <summary>The generated block of a recipe's page, markers included, ending with a newline.</summary>
    public static string Render(ModelRecipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var md = new StringBuilder();
        md.Append(BeginMarker(recipe.Name)).Append('\n');
        Summary(recipe, md);
        Source(recipe, md);
        Shape(recipe, md);
        ChatFormat(recipe, md);
        Variants(recipe, md);
        PoolPlans(recipe, md);
        Use(recipe, md);
        Measured(recipe, md);
        md.Append(EndMarker).Append('\n');
        return md.ToString();
    }

    /// <summary>The recipe table of docs/models/README.md, markers included.</summary>
    public static string RenderIndex(IReadOnlyList<ModelRecipe> recipes)
    {
        ArgumentNullException.ThrowIfNull(recipes);
        var md = new StringBuilder();
        md.Append(BeginMarker(IndexName)).Append('\n');
        md.Append("| recipe | repository | family | parameters | chat | default | weights (default) | measured |\n");
        md.Append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var recipe in recipes)
        {
            var variant = recipe.DefaultVariant;
            var measured = recipe.Measured.Count == 0 ? "not yet" : Count(recipe.Measured.Count, "run");
            md.Append($"| [{recipe.Name}]({recipe.Name}.md) | `{recipe.Hub.Repository}` | {recipe.Family} | {Parameters(recipe.PublishedParameters)} | ")
                .Append($"{recipe.ChatTemplate ?? "—"} | `{variant.Name}` | {ContextBudget.Size(WeightFootprint.Of(recipe.Shape, variant).TotalBytes)} | {measured} |\n");
        }
        md.Append('\n').Append(EndMarker).Append('\n');
        return md.ToString();
    }

    /// <summary>
    /// <paramref name="page"/> with the block that <paramref name="generated"/> opens replaced by it. A page without
    /// that block, or with it opened twice or never closed, is an error naming <paramref name="pageName"/>.
    /// </summary>
    public static string Replace(string page, string generated, string pageName)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(generated);
        var (start, end) = Find(page, FirstLine(generated), pageName);
        return string.Concat(page.AsSpan(0, start), generated, page.AsSpan(end));
    }

    /// <summary>The generated block <paramref name="beginMarker"/> opens in <paramref name="page"/>, markers included.</summary>
    public static string Extract(string page, string beginMarker, string pageName)
    {
        ArgumentNullException.ThrowIfNull(page);
        var (start, end) = Find(page, beginMarker, pageName);
        return page[start..end];
    }

    private static (int Start, int End) Find(string page, string beginMarker, string pageName)
    {
        var start = page.IndexOf(beginMarker + "\n", StringComparison.Ordinal);
        if (start < 0 || (start > 0 && page[start - 1] != '\n'))
            throw new ModelFormatException($"{pageName}: no line '{beginMarker}'; add it, and '{EndMarker}' after it, where the generated part goes");
        if (page.IndexOf(beginMarker, start + beginMarker.Length, StringComparison.Ordinal) >= 0)
            throw new ModelFormatException($"{pageName}: '{beginMarker}' appears twice; keep one generated block");
        var close = page.IndexOf("\n" + EndMarker, start, StringComparison.Ordinal);
        if (close < 0)
            throw new ModelFormatException($"{pageName}: the generated block is never closed; add a line '{EndMarker}'");
        var end = close + 1 + EndMarker.Length;
        if (end < page.Length && page[end] == '\n')
            end++;
        return (start, end);
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? text : text[..newline];
    }

    private static void Summary(ModelRecipe recipe, StringBuilder md) =>
        md.Append("## Summary\n\n").Append(recipe.Summary.TrimEnd('.')).Append(".\n\n");

    private static void Source(ModelRecipe recipe, StringBuilder md)
    {
        var hub = recipe.Hub;
        md.Append("## Source\n\n")
            .Append($"Hugging Face repository [`{hub.Repository}`](https://huggingface.co/{hub.Repository}), revision `{hub.Revision}`, ")
            .Append($"format `{recipe.Format}`, architecture `{recipe.Architecture}`.\n\n")
            .Append("| file | check |\n| --- | --- |\n");
        foreach (var file in hub.Files)
        {
            var check = file.Sha256 is { } sha ? $"sha256 `{sha}` (pinned)" : "from the hub's listing (sha256 for LFS files, git blob sha1 for the rest)";
            md.Append($"| `{file.Path}` | {check} |\n");
        }
        md.Append('\n');
    }

    private static void Shape(ModelRecipe recipe, StringBuilder md)
    {
        var s = recipe.Shape;
        var scaling = s.RopeScaling is { } r
            ? $"{r.Type}, factor {Number(r.Factor)}, low/high frequency factors {Number(r.LowFreqFactor)}/{Number(r.HighFreqFactor)}, original context {r.OriginalMaxContext}"
            : "none";
        md.Append("## Shape\n\n| | |\n| --- | --- |\n")
            .Append($"| dim (hidden_size) | {s.Dim} |\n")
            .Append($"| FFN hidden (intermediate_size) | {s.HiddenDim} |\n")
            .Append($"| layers | {s.Layers} |\n")
            .Append($"| heads / KV heads | {s.Heads} / {s.KvHeads} |\n")
            .Append($"| head size | {s.HeadSize} |\n")
            .Append($"| vocabulary | {s.VocabSize} |\n")
            .Append($"| RoPE base | {Number(s.RopeTheta)} |\n")
            .Append($"| RoPE scaling | {scaling} |\n")
            .Append($"| RMSNorm epsilon | {s.NormEps.ToString("0.###e-00", CultureInfo.InvariantCulture)} |\n")
            .Append($"| q/k/v biases | {YesNo(s.AttentionBias)} |\n")
            .Append($"| tied embeddings | {YesNo(s.TiedEmbeddings)} |\n")
            .Append($"| per-head q/k norm | {YesNo(s.QkNorm)} |\n")
            .Append($"| max context | {s.MaxContext} |\n")
            .Append($"| parameters (from the shape) | {s.ParameterCount.ToString("N0", CultureInfo.InvariantCulture)} |\n")
            .Append($"| parameters (published) | {recipe.PublishedParameters.ToString("N0", CultureInfo.InvariantCulture)} |\n\n");
    }

    private static void ChatFormat(ModelRecipe recipe, StringBuilder md)
    {
        md.Append("## Chat template\n\n");
        md.Append(recipe.ChatTemplate is { } name
            ? $"`{name}`: `models convert --recipe {recipe.Name}` records it in manifest.json (`--chat-template` overrides it), and `generate --chat` wraps prompts in it.\n\n"
            : "None: a completion model; prompts are plain text.\n\n");
    }

    private static void Variants(ModelRecipe recipe, StringBuilder md)
    {
        md.Append("## Variants\n\n")
            .Append("The first is the default (`--variant` picks another). Weight bytes are as the slices store them: embedding and norms\n")
            .Append("in float32, every projection and the classifier at the variant's precision with a float32 scale per block (and packed\n")
            .Append("zero points when asymmetric).\n\n")
            .Append("| variant | precision | block | zero points | activation-aware | weights | why |\n")
            .Append("| --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var v in recipe.Variants)
        {
            var block = v.BlockSize == 0 ? "—" : v.BlockSize.ToString(CultureInfo.InvariantCulture);
            var bytes = WeightFootprint.Of(recipe.Shape, v).TotalBytes;
            md.Append($"| `{v.Name}` | {v.Precision} | {block} | {YesNo(v.Asymmetric)} | {YesNo(v.ActivationAware)} | {ContextBudget.Size(bytes)} | {v.Reason} |\n");
        }
        md.Append('\n');
    }

    private static void PoolPlans(ModelRecipe recipe, StringBuilder md)
    {
        md.Append("## Pool plans\n\n")
            .Append("One contiguous layer range per node; the first node also holds the embedding, the last the final norm and the\n")
            .Append("classifier (a tied classifier is a second copy there). A token reads every weight of its node's layers and of the\n")
            .Append("classifier but only one row of the embedding, so the planner balances the bytes read per token first and the bytes\n")
            .Append("held second ([how](README.md#how-the-pool-plans-are-computed)).\n\n");
        foreach (var v in recipe.Variants)
        {
            var embedding = WeightFootprint.Of(recipe.Shape, v).EmbeddingBytes;
            md.Append($"`{v.Name}`:\n\n")
                .Append("| nodes | layers (`--layers` form) | bytes held per node | bytes read per token per node |\n")
                .Append("| --- | --- | --- | --- |\n");
            foreach (var plan in v.PoolPlans.OrderBy(p => p.Nodes))
            {
                var held = string.Join(" / ", plan.Slices.Select(s => ContextBudget.Size(s.WeightBytes)));
                var read = string.Join(" / ", plan.Slices.Select(s => ContextBudget.Size(s.WeightBytes - (s.Embed ? embedding : 0))));
                md.Append($"| {plan.Nodes} | `{plan.LayerRanges}` | {held} | {read} |\n");
            }
            md.Append('\n');
        }
    }

    private static void Use(ModelRecipe recipe, StringBuilder md)
    {
        var v = recipe.DefaultVariant;
        var awq = v.ActivationAware ? " --awq calibration.txt" : "";
        var pool = v.PoolPlans.Where(p => p.Nodes > 1).Select(p => p.Nodes).DefaultIfEmpty(0).Min();
        md.Append("## Use\n\n```bash\n")
            .Append($"edgenode models pull {recipe.Name}\n")
            .Append($"edgenode models convert {recipe.Name} --recipe {recipe.Name} --out {recipe.Name}-{v.Name}{awq}\n");
        if (pool > 1)
            md.Append($"edgenode models convert {recipe.Name} --recipe {recipe.Name} --variant {v.Name} --nodes {pool} --out {recipe.Name}-{v.Name}-{pool}{awq}\n");
        md.Append(recipe.ChatTemplate is null
            ? $"edgenode generate --model {recipe.Name}-{v.Name} --prompt \"...\"\n"
            : $"edgenode generate --model {recipe.Name}-{v.Name} --chat --prompt \"...\"\n");
        md.Append("```\n\n");
    }

    private static void Measured(ModelRecipe recipe, StringBuilder md)
    {
        md.Append("## Measured\n\n");
        if (recipe.Measured.Count == 0)
        {
            md.Append("Not measured yet: the recipe's `measured` list is empty.\n\n");
            return;
        }
        md.Append("From the recipe's `measured` list, one row per run, each from the run record it names (the command, date, ")
            .Append("machine and the command's JSON, under docs/measurements/); — where a run did not measure the value.");
        if (recipe.Measured.Exists(m => m.Weights is not null && m.Weights.StartsWith("random", StringComparison.OrdinalIgnoreCase)))
            md.Append(" Runs on random weights at a model's shape measure speed and memory only: their perplexity and agreement say nothing about the model's quality.");
        md.Append("\n\n")
            .Append("| variant | weights | device | date | perplexity (text) | greedy agreement with fp32 | decode tok/s | weight bytes | peak RSS | record |\n")
            .Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var m in recipe.Measured)
        {
            var perplexity = m.Perplexity is { } p
                ? m.PerplexityText is { } text ? $"{Number(p, "0.000")} ({text})" : Number(p, "0.000")
                : "—";
            // The pages live in docs/models/, the records in docs/measurements/: link them relative to the page.
            var record = m.Source is { } source
                ? $"[{Path.GetFileName(source)}](../{source[(source.IndexOf('/', StringComparison.Ordinal) + 1)..]})"
                : "—";
            md.Append($"| `{m.Variant}` | {m.Weights ?? "not stated"} | {m.Device ?? "—"} | {m.Date ?? "—"} | {perplexity} | ")
                .Append($"{(m.GreedyAgreement is { } a ? Number(a * 100, "0.0") + "%" : "—")} | ")
                .Append($"{(m.DecodeTokensPerSecond is { } t ? Number(t, "0.0") : "—")} | ")
                .Append($"{(m.WeightBytes is { } w ? ContextBudget.Size(w) : "—")} | {(m.PeakRssBytes is { } r ? ContextBudget.Size(r) : "—")} | {record} |\n");
        }
        md.Append('\n');
    }

    private static string YesNo(bool value) => value ? "yes" : "no";

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static string Number(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Bytes in MiB below a GiB, else GiB, as `models recipes` prints them.</summary>
    /// <summary>A parameter count as publishers round it: 260K, 362M, 1,236M.</summary>
    private static string Parameters(long count) => count < 1_000_000
        ? string.Create(CultureInfo.InvariantCulture, $"{count / 1e3:0}K")
        : string.Create(CultureInfo.InvariantCulture, $"{count / 1e6:N0}M");
}
