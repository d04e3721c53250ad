using EdgeNode.Inference.Runtime;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Planning;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// The real shared models converted once per run into a folder of three layer slices (0:2, 2:4, 4:5) plus embed and
/// head, and one ONNX Runtime with one thread per session (several nodes share this machine's two cores).
/// </summary>
public sealed class ChainModels : IDisposable
{
    /// <summary>The layer ranges every test chain uses: three hops over the models' five layers.</summary>
    public static readonly (int First, int End)[] Ranges = [(0, 2), (2, 4), (4, 5)];

    private readonly TempDirectory _root = TestPaths.NewTempDirectory("chain");
    private readonly Dictionary<string, string> _folders = [];
    private readonly object _gate = new();

    public InferenceRuntime Runtime { get; } = new(new InferenceOptions { Threads = 1 });

    public string Folder(string model)
    {
        lock (_gate)
        {
            if (_folders.TryGetValue(model, out var folder))
                return folder;
            var (_, checkpoint, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == model);
            folder = Path.Combine(_root.Path, model);
            ModelConverter.Convert(checkpoint, tokenizer, folder, new ConversionOptions { LayerRanges = Ranges, Name = model });
            _folders[model] = folder;
            return folder;
        }
    }

    /// <summary>Starts one node per range on 127.0.0.1 ports and applies a plan of <paramref name="epoch"/> to each.</summary>
    public async Task<RunningChain> StartAsync(string model, long epoch = 1, TimeSpan? stepDeadline = null)
    {
        var folder = Folder(model);
        var logger = new RecordingLogger();
        var nodes = new List<ChainNode>();
        try
        {
            foreach (var _ in Ranges)
            {
                var node = new ChainNode(new ChainNodeOptions
                {
                    ModelFolder = folder,
                    Runtime = Runtime,
                    ListenAddress = System.Net.IPAddress.Loopback,
                    Logger = logger,
                    StepDeadline = stepDeadline ?? TimeSpan.FromSeconds(30),
                });
                nodes.Add(node);
                node.Start();
            }
            var assignments = Ranges.Select((r, i) => new SliceAssignment(
                $"node-{(char)('a' + i)}", r.First, r.End, Embed: i == 0, Head: i == Ranges.Length - 1, $"127.0.0.1:{nodes[i].Port}")).ToList();
            var plan = new PoolPlan("test", model, epoch, assignments);
            for (var i = 0; i < nodes.Count; i++)
                await nodes[i].ApplyPlan(plan, assignments[i].NodeId).WaitAsync(TimeSpan.FromSeconds(30));
            return new RunningChain(nodes, plan, logger);
        }
        catch
        {
            foreach (var n in nodes) await n.DisposeAsync();
            throw;
        }
    }

    public void Dispose() => _root.Dispose();
}

/// <summary>A chain of in-process nodes on loopback ports.</summary>
public sealed class RunningChain(List<ChainNode> nodes, PoolPlan plan, RecordingLogger logger) : IAsyncDisposable
{
    public IReadOnlyList<ChainNode> Nodes => nodes;
    public PoolPlan Plan { get; } = plan;
    public RecordingLogger Logger { get; } = logger;
    public string EntryEndpoint => Plan.Assignments[0].DataEndpoint;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes)
            await node.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ChainModelsCollection : ICollectionFixture<ChainModels>
{
    public const string Name = "chain models";
}
