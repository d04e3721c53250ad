using System.Text.Json;
using EdgeNode.Pool.Bench;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests;

/// <summary>The pool bench runs end to end and reports every encoding (its numbers are printed, never asserted: not a timed test).</summary>
[Collection(ChainModelsCollection.Name)]
public sealed class ChainBenchmarkTests(ChainModels models, ITestOutputHelper output)
{
    [Fact]
    public async Task TheBenchReportsSoloPoolAndBytesForEveryEncoding()
    {
        var report = await ChainBenchmark.RunAsync(new ChainBenchmarkOptions
        {
            ModelFolder = models.Folder("stories260K"),
            Runtime = models.Runtime,
            Tokens = int.TryParse(Environment.GetEnvironmentVariable("EDGENODE_CHAIN_BENCH_TOKENS"), out var tokens) ? tokens : 64,
            Repeats = int.TryParse(Environment.GetEnvironmentVariable("EDGENODE_CHAIN_BENCH_REPEATS"), out var repeats) ? repeats : 2,
        });
        output.WriteLine(report.ToTable());
        Assert.Equal(3, report.Hops);
        Assert.Equal(["fp32", "fp16", "int8", "int8+zstd"], report.Encodings.Select(r => r.Encoding));
        var bytes = report.Encodings.ToDictionary(r => r.Encoding, r => r.BytesPerTokenPerHop);
        // Exact sizes on the wire: header + payload of one position.
        Assert.Equal(48 + 64 * 4, bytes["fp32"]);
        Assert.Equal(48 + 64 * 2, bytes["fp16"]);
        Assert.Equal(48 + 64 + 4, bytes["int8"]);
        Assert.True(bytes["int8+zstd"] > 48, "a zstd frame still has its header and some payload");
        Assert.All(report.Encodings, r => Assert.True(r.Tokens > 1 && r.MsPerToken > 0));
        Assert.Equal([1, 2, 4, 8], report.Concurrency.Select(c => c.Sessions));
        Assert.All(report.Concurrency, c => Assert.True(c.Tokens >= c.Sessions && c.AggregateTokS > 0));

        // Its rows are `edgenode bench --pool`'s, written by the same JSON context under the same names.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(report, PoolBenchJsonContext.Default.ChainBenchmarkReport));
        var int8 = json.RootElement.GetProperty("encodings").EnumerateArray().Single(e => e.GetProperty("encoding").GetString() == "int8");
        Assert.Equal(bytes["int8"], int8.GetProperty("bytes_per_token_per_hop").GetDouble());
        Assert.Equal(report.Solo.Tokens, json.RootElement.GetProperty("solo").GetProperty("tokens").GetInt32());
    }
}
