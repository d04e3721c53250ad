using System.Text.Json;

namespace EdgeNode.TestSupport;

/// <summary>One case of a shared model's golden.json: greedy tokens from the upstream reference implementation.</summary>
public sealed record GoldenCase(string Model, string Prompt, int Steps, int[] PromptTokens, int[] Tokens, string Text)
{
    /// <summary>Tokens to generate so the reference's rule (stop when the position reaches steps) is met.</summary>
    public int MaxTokens => Steps - PromptTokens.Length + 1;

    public override string ToString() => $"{Model}: \"{Prompt}\"";

    public static IReadOnlyList<GoldenCase> Load(string modelFolder)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Model(modelFolder, "golden.json")));
        var model = doc.RootElement.GetProperty("model").GetString()!;
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(
            model,
            c.GetProperty("prompt").GetString()!,
            c.GetProperty("steps").GetInt32(),
            c.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("text").GetString()!)).ToList();
    }

    /// <summary>Both real models: (folder, checkpoint file, tokenizer path).</summary>
    public static IEnumerable<(string Folder, string Checkpoint, string Tokenizer)> RealModels()
    {
        var tok = TestPaths.Model("stories260K", "tok512.bin");
        yield return ("stories260K", TestPaths.Model("stories260K", "stories260K.bin"), tok);
        yield return ("llama2xs-tok512-280K", TestPaths.Model("llama2xs-tok512-280K", "model.bin"), tok);
    }
}
