using System.Text.Json;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

/// <summary>The greedy-decoding cases recorded in the shared models' golden.json files.</summary>
public sealed record GoldenCase(string Model, string CheckpointPath, string TokenizerPath, string Prompt, int Steps, int[] PromptTokens, int[] Tokens)
{
    public static readonly string[] ModelFolders = ["stories260K", "llama2xs-tok512-280K"];

    public static IReadOnlyList<GoldenCase> Load(string modelFolder)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Model(modelFolder, "golden.json")));
        var root = document.RootElement;
        var checkpoint = TestPaths.Model(root.GetProperty("checkpoint").GetString()!.Split('/'));
        var tokenizer = TestPaths.Model(root.GetProperty("tokenizer").GetString()!.Split('/'));
        return root.GetProperty("cases").EnumerateArray().Select(c => new GoldenCase(
            modelFolder, checkpoint, tokenizer,
            c.GetProperty("prompt").GetString()!,
            c.GetProperty("steps").GetInt32(),
            c.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray())).ToList();
    }

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
}
