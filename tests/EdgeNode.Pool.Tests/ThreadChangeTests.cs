using System.Runtime.InteropServices;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Synthetic;
using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Planning;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// The device governor's thread step on a node: its slices are re-opened with another intra-op thread count while a
/// session is open. The session's KV caches stay, and every step's logits are bit for bit those of a run that never
/// changed threads (the count shares a kernel's rows out, it never changes what they sum to) — for fp32 weights and for
/// MatMulNBits' int4, on the real model and on random weights at the stories15M shape (wide enough that ONNX Runtime
/// actually splits its kernels over the threads). Real ONNX Runtime sessions throughout.
/// </summary>
[Collection(ChainModelsCollection.Name)]
public sealed class ThreadChangeTests(ChainModels models, ITestOutputHelper output) : IDisposable
{
    // Decode steps after which the slices change threads, and to what (the machine has 2 cores; 3 oversubscribes on purpose).
    private static readonly Dictionary<int, int> s_changes = new() { [1] = 2, [4] = 3, [9] = 1, [15] = 2 };

    private readonly TempDirectory _root = TestPaths.NewTempDirectory("thread-change");

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData("fp32")]
    [InlineData("int4")]
    public void ThreadChangesMidSessionKeepTheCacheAndTheLogitsOfTheRealModel(string precision)
    {
        var golden = GoldenCase.Load("stories260K")[0];
        var folder = Path.Combine(_root.Path, $"stories260K-{precision}");
        ModelConverter.Convert(golden.CheckpointPath, golden.TokenizerPath, folder, new ConversionOptions
        {
            Precision = WeightPrecisionNames.Parse(precision), LayerRanges = ChainModels.Ranges, Name = "stories260K",
        });
        using var slices = NodeSlices.Load(models.Runtime, folder, new SliceAssignment("solo", 0, 5, Embed: true, Head: true, ""), threads: 1);
        var steps = Math.Min(golden.Tokens.Length, 24);

        // The reference: one thread all along; its greedy tokens are the inputs of both runs.
        var inputs = new List<int[]> { golden.PromptTokens };
        var reference = new List<float[]>();
        using (var caches = new CacheSet(slices.CreateCaches(golden.Steps)))
        {
            for (var step = 0; step <= steps; step++)
            {
                var logits = slices.RunTokens(inputs[step], caches.Caches).ToArray();
                reference.Add(logits);
                inputs.Add([TokenSampler.ArgMax(logits)]);
            }
        }
        if (precision == "fp32")
            Assert.Equal(golden.Tokens[..steps], inputs.Skip(1).Take(steps).Select(t => t[0]));

        using (var caches = new CacheSet(slices.CreateCaches(golden.Steps)))
        {
            var changes = Run(slices, caches.Caches, reference, (step, kv) => slices.RunTokens(inputs[step], kv).ToArray());
            output.WriteLine($"stories260K {precision}: {steps + 1} runs bit for bit equal across {changes}");

            // The comparison sees a lost cache: the next token on fresh caches gives other logits than with the session's.
            using var fresh = new CacheSet(slices.CreateCaches(golden.Steps));
            Assert.NotEqual(reference[1], slices.RunTokens(inputs[1], fresh.Caches).ToArray());
        }
    }

    [Theory]
    [InlineData("fp32")]
    [InlineData("int4")]
    public void ThreadChangesMidSessionKeepTheLogitsAtTheStories15MShape(string precision)
    {
        // Random weights at the stories15M shape (dim 288, hidden 768, 6 layers): two slices, the second with the head.
        var weights = SyntheticCheckpoints.Generate(SyntheticCheckpoints.Shapes["stories15M"], seed: 11);
        var folder = Path.Combine(_root.Path, $"stories15M-{precision}");
        var layers = weights.Config.Layers;
        SliceBuilder.Build(weights, null, [SliceSpec.Layers(0, layers / 2), new SliceSpec(false, layers / 2, layers, true)], folder,
            new ConversionOptions { Precision = WeightPrecisionNames.Parse(precision), BlockSize = precision == "int4" ? 32 : null, Name = "stories15M-random" });
        using var slices = NodeSlices.Load(models.Runtime, folder, new SliceAssignment("solo", 0, layers, Embed: false, Head: true, ""), threads: 1);
        var dim = weights.Config.Dim;

        // Hidden states in: an 8-position prompt, then one position a step, from a fixed seed.
        var random = new Random(5);
        var steps = 20;
        var inputs = new List<float[]> { Hidden(random, 8 * dim) };
        for (var i = 0; i < steps; i++)
            inputs.Add(Hidden(random, dim));
        var reference = new List<float[]>();
        using (var caches = new CacheSet(slices.CreateCaches(64)))
        {
            foreach (var input in inputs)
                reference.Add(slices.RunHidden(input, caches.Caches).ToArray());
        }
        using (var caches = new CacheSet(slices.CreateCaches(64)))
        {
            var changes = Run(slices, caches.Caches, reference, (step, kv) => slices.RunHidden(inputs[step], kv).ToArray());
            output.WriteLine($"random weights at the stories15M shape, {precision}: {inputs.Count} runs bit for bit equal across {changes}");
        }
    }

    /// <summary>
    /// Three in-process nodes generate a golden case over TCP; after the third token every node is told to change its
    /// threads. Each change lands between two of the session's frames (it reports the open session), and the output is
    /// still the golden one, token for token.
    /// </summary>
    [Fact]
    public async Task AThreadStepOnEveryNodeMidGenerationKeepsTheGoldenOutput()
    {
        const string model = "stories260K";
        var golden = GoldenCase.Load(model).First(g => g.Tokens.Length >= 40);
        await using var chain = await models.StartAsync(model);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        Task<ThreadsChange>[]? changes = null;
        var pieces = 0;
        var result = await client.GenerateAsync(ChainGoldenTests.Request(golden, HiddenEncoding.Fp32, zstd: false), _ =>
        {
            if (++pieces == 3)
                changes = [.. chain.Nodes.Select((node, i) => node.ChangeThreadsAsync(2 + i % 2, "test: a thread step mid-generation"))];
        });
        Assert.Equal(golden.Tokens, result.Tokens);
        Assert.NotNull(changes);
        var done = await Task.WhenAll(changes).WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 0; i < done.Length; i++)
        {
            output.WriteLine($"{chain.Plan.Assignments[i].NodeId}: {done[i].From} -> {done[i].To} threads in {done[i].Rebuild.TotalMilliseconds:F1} ms with {done[i].OpenSessions} session(s) open");
            Assert.True(done[i].Reopened);
            Assert.Equal((1, 2 + i % 2, 1), (done[i].From, done[i].To, done[i].OpenSessions));
            Assert.Equal(2 + i % 2, chain.Nodes[i].Threads);
        }
        Assert.True(chain.Logger.Contains("intra-op threads instead of 1"), string.Join("\n", chain.Logger.Lines.Select(l => l.Message)));

        // The next generation runs on the new threads from the start, still golden.
        var again = await client.GenerateAsync(ChainGoldenTests.Request(golden, HiddenEncoding.Fp32, zstd: false));
        Assert.Equal(golden.Tokens, again.Tokens);
        await ChainGoldenTests.WaitUntil(() => chain.Nodes.All(n => n.ActiveSessions == 0));
    }

    /// <summary>
    /// Runs every step on <paramref name="caches"/>, changing the slices' threads where <see cref="s_changes"/> says, and
    /// checks each step's logits against <paramref name="reference"/> bit for bit and that a change kept the caches.
    /// </summary>
    private static string Run(NodeSlices slices, KvCache[] caches, List<float[]> reference, Func<int, KvCache[], float[]> run)
    {
        var seen = new List<string>();
        for (var step = 0; step < reference.Count; step++)
        {
            if (s_changes.TryGetValue(step, out var threads))
            {
                var before = caches.Select(c => c.Length).ToArray();
                var from = slices.Threads;
                slices.ChangeThreads(threads);
                Assert.Equal(threads, slices.Threads);
                Assert.True(slices.IsLoaded);
                Assert.Equal(before, caches.Select(c => c.Length));
                Assert.All(caches, c => Assert.False(c.IsDisposed));
                seen.Add($"{from}->{threads} before step {step}");
            }
            var logits = run(step, caches);
            // Bits, not float equality: -0 and 0, or two NaNs, would pass that.
            Assert.True(MemoryMarshal.Cast<float, int>(reference[step]).SequenceEqual(MemoryMarshal.Cast<float, int>(logits)),
                $"step {step} at {slices.Threads} threads: logits differ from the one-thread run");
        }
        Assert.Equal(s_changes.Count(c => c.Key < reference.Count), seen.Count);
        return string.Join(", ", seen);
    }

    private static float[] Hidden(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    private sealed class CacheSet(KvCache[] caches) : IDisposable
    {
        public KvCache[] Caches { get; } = caches;

        public void Dispose()
        {
            foreach (var cache in Caches)
                cache.Dispose();
        }
    }
}
