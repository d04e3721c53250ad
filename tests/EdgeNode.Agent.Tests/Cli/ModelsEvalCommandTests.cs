using System.Text.Json;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// `edgenode models eval` through the NativeAOT binary: one row per precision with perplexity on the held-out story,
/// agreement with fp32, decode speed, weight bytes and the memory of a fresh process, as a table and as JSON.
/// </summary>
public sealed class ModelsEvalCommandTests(AgentHome home, ITestOutputHelper output) : IClassFixture<AgentHome>
{
    private static string HeldOutStory => Path.Combine(AppContext.BaseDirectory, "Data", "heldout-story.txt");

    [Fact]
    public void EvalPrintsTheQualitySpeedMemoryTableForEachPrecision()
    {
        using var dir = TestPaths.NewTempDirectory("eval");
        var json = dir.File("quality.json");
        var result = home.Run("models", "eval", "--model", TestPaths.Model("stories260K", "stories260K.bin"), "--text", HeldOutStory,
            "--precision", "int4,fp32,int8", "--threads", "2", "--tokens", "32", "--json-out", json);
        Assert.True(result.ExitCode == 0, result.Stderr);
        output.WriteLine(result.Stdout);
        Assert.Contains("| model | precision |", result.Stdout, StringComparison.Ordinal);

        var rows = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("rows").EnumerateArray().ToArray();
        // fp32 is measured first whatever the order asked for, so the others can be compared with it.
        Assert.Equal(["fp32", "int4", "int8"], rows.Select(r => r.GetProperty("precision").GetString()));
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("top_one_agreement_with_fp32").ValueKind);
        var fp32 = rows[0].GetProperty("perplexity").GetDouble();
        Assert.InRange(fp32, 1.5, 30);
        foreach (var row in rows)
        {
            Assert.True(row.GetProperty("decode_tok_s").GetDouble() > 0);
            Assert.True(row.GetProperty("peak_rss_mb").GetDouble() > 10);
            Assert.True(row.GetProperty("scored_tokens").GetInt32() > 100);
        }
        var int8 = rows[2];
        Assert.True(int8.GetProperty("top_one_agreement_with_fp32").GetDouble() > 0.9, "int8 should pick fp32's top token almost everywhere");
        Assert.True(int8.GetProperty("perplexity").GetDouble() < fp32 * 1.05);
        long Bytes(JsonElement row) => row.GetProperty("weight_bytes").GetInt64();
        Assert.True(Bytes(rows[1]) < Bytes(rows[2]) && Bytes(rows[2]) < Bytes(rows[0]), "int4 < int8 < fp32 in weight bytes");
    }

    [Fact]
    public void EvalRejectsAnUnknownPrecisionInTheList()
    {
        var result = home.Run("models", "eval", "--model", TestPaths.Model("stories260K", "stories260K.bin"), "--text", HeldOutStory, "--precision", "fp32,int3");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("int3", result.Stderr, StringComparison.Ordinal);
    }
}
