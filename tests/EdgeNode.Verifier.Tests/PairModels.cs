using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// The real draft/target pair (stories260K and llama2xs-tok512-280K, one tokenizer) converted once per run, fp32 and
/// int4 (the "self-int4" drafts), loaded in one ONNX Runtime.
/// </summary>
public sealed class PairModels : IDisposable
{
    public static readonly string[] Names = ["stories260K", "llama2xs-tok512-280K"];

    private readonly TempDirectory _root = TestPaths.NewTempDirectory("speculative-pair");
    private readonly Dictionary<(string, WeightPrecision), LocalModel> _models = [];
    private readonly Dictionary<string, LocalModel> _firstHalves = [];
    private readonly object _gate = new();

    public PairModels()
    {
        Runtime = new InferenceRuntime(new InferenceOptions { Threads = 1 });
    }

    public InferenceRuntime Runtime { get; }

    public static string Tokenizer => TestPaths.Model("stories260K", "tok512.bin");

    public static string Checkpoint(string name) => name == "stories260K"
        ? TestPaths.Model("stories260K", "stories260K.bin")
        : TestPaths.Model("llama2xs-tok512-280K", "model.bin");

    public LocalModel Get(string name, WeightPrecision precision = WeightPrecision.Fp32)
    {
        lock (_gate)
        {
            if (_models.TryGetValue((name, precision), out var model))
                return model;
            var folder = Path.Combine(_root.Path, $"{name}-{precision.ToName()}");
            ModelConverter.Convert(Checkpoint(name), Tokenizer, folder, new ConversionOptions { Precision = precision, Name = name });
            model = LocalModel.Load(Runtime, folder);
            _models[(name, precision)] = model;
            return model;
        }
    }

    /// <summary>The first half of <paramref name="name"/>'s layers and its head, converted with a boundary there: the "self-layers" draft.</summary>
    public LocalModel FirstHalf(string name)
    {
        var layers = Get(name).Config.Layers;
        var first = layers / 2;
        lock (_gate)
        {
            if (_firstHalves.TryGetValue(name, out var model))
                return model;
            var folder = Path.Combine(_root.Path, $"{name}-first-{first}");
            ModelConverter.Convert(Checkpoint(name), Tokenizer, folder, new ConversionOptions { Name = name, LayerRanges = [(0, first), (first, layers)] });
            model = LocalModel.Load(Runtime, folder, firstLayers: first);
            _firstHalves[name] = model;
            return model;
        }
    }

    public void Dispose()
    {
        foreach (var model in _firstHalves.Values)
            model.Dispose();
        foreach (var model in _models.Values)
            model.Dispose();
        _root.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PairModelsCollection : ICollectionFixture<PairModels>
{
    public const string Name = "draft/target pair";
}
