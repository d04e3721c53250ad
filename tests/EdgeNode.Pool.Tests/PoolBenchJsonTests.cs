using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeNode.Pool.Bench;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// The pool benchmarks recorded in docs/benchmarks were written by `edgenode bench --pool`: its report types read each
/// one and write back every field it holds, under the same name with the same value, so a field renamed or dropped in
/// the shared row types shows here. (Fields added since a file was written, such as plan.model_bytes, may be extra.)
/// </summary>
public sealed class PoolBenchJsonTests
{
    private static readonly string s_folder = Path.Combine(TestPaths.RepoRoot, "docs", "benchmarks");

    public static TheoryData<string> Recorded()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(s_folder, "pool-*.json").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        Assert.NotEmpty(data);
        return data;
    }

    [Theory]
    [MemberData(nameof(Recorded))]
    public void ARecordedPoolBenchmarkReadsAndWritesBackUnchanged(string name)
    {
        var text = File.ReadAllText(Path.Combine(s_folder, name));
        var report = JsonSerializer.Deserialize(text, PoolBenchJsonContext.Default.PoolBenchReport);
        Assert.NotNull(report);
        Assert.NotEmpty(report.Encodings);
        var written = JsonNode.Parse(JsonSerializer.Serialize(report, PoolBenchJsonContext.Default.PoolBenchReport));
        AssertHolds(JsonNode.Parse(text), written, "$");
    }

    private static void AssertHolds(JsonNode? recorded, JsonNode? written, string path)
    {
        switch (recorded)
        {
            case JsonObject fields:
                var writtenFields = Assert.IsType<JsonObject>(written);
                foreach (var (name, value) in fields)
                {
                    Assert.True(writtenFields.ContainsKey(name), $"{path}.{name} is recorded but no longer written");
                    AssertHolds(value, writtenFields[name], $"{path}.{name}");
                }
                break;
            case JsonArray items:
                var writtenItems = Assert.IsType<JsonArray>(written);
                Assert.Equal(items.Count, writtenItems.Count);
                for (var i = 0; i < items.Count; i++)
                    AssertHolds(items[i], writtenItems[i], $"{path}[{i}]");
                break;
            default:
                Assert.True(JsonNode.DeepEquals(recorded, written), $"{path}: recorded {recorded?.ToJsonString()}, written {written?.ToJsonString()}");
                break;
        }
    }
}
