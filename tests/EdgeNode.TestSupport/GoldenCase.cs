using System.Text.Json;

namespace EdgeNode.TestSupport;

/// <summary>One case of a shared model's golden.json: greedy tokens from the upstream reference implementation.</summary>
public sealed record GoldenCase(string Model, string CheckpointPath, string TokenizerPath, string Prompt, int Steps, int[] PromptTokens, int[] Tokens, string Text)
{
    /// <summary>The shared model folders that have a golden.json.</summary>
    public static readonly string[] ModelFolders = ["stories260K", "llama2xs-tok512-280K"];

    /// <summary>
    /// Tokens to generate so the reference's rule is met: it runs until the position reaches steps, and the
    /// prompt's last token sits at position len-1, so it samples steps - len + 1 tokens at most.
    /// </summary>
    public int MaxTokens => Steps - PromptTokens.Length + 1;

    public override string ToString() => $"{Model}: \"{Prompt}\"";

    public static IReadOnlyList<GoldenCase> Load(string modelFolder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Model(modelFolder, "golden.json")));
        var root = doc.RootElement;
        // golden.json names its checkpoint and tokenizer relative to the shared models folder.
        var checkpoint = TestPaths.Model(root.GetProperty("checkpoint").GetString()!.Split('/'));
        var tokenizer = TestPaths.Model(root.GetProperty("tokenizer").GetString()!.Split('/'));
        return root.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(
            modelFolder,
            checkpoint,
            tokenizer,
            c.GetProperty("prompt").GetString()!,
            c.GetProperty("steps").GetInt32(),
            c.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("text").GetString()!)).ToList();
    }

    /// <summary>Every case of every model as (model folder, case index), for theories.</summary>
    public static TheoryData<string, int> AllCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var folder in ModelFolders)
        {
            for (var i = 0; i < Load(folder).Count; i++)
                data.Add(folder, i);
        }
        return data;
    }

    /// <summary>Both real models: (folder, checkpoint file, tokenizer path).</summary>
    public static IEnumerable<(string Folder, string Checkpoint, string Tokenizer)> RealModels() =>
        ModelFolders.Select(folder => Load(folder)[0]).Select(c => (c.Model, c.CheckpointPath, c.TokenizerPath));
}
