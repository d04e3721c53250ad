using System.Text.Json;
using EdgeNode.Pool.Bench;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// The pool benchmarks recorded in docs/benchmarks were written by `edgenode bench --pool`: its report types read each
/// one and write it back byte for byte, so a field renamed, dropped or moved in the shared row types shows here.
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
        Assert.Equal(text, JsonSerializer.Serialize(report, PoolBenchJsonContext.Default.PoolBenchReport));
    }
}
