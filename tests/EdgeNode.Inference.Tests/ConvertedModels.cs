using EdgeNode.Inference.Runtime;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// The real shared models converted once per test run at each precision (a few hundred KB each, so this
/// is quick), plus one ONNX Runtime shared by the tests.
/// </summary>
public sealed class ConvertedModels : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("converted");
    private readonly Dictionary<(string, WeightPrecision), string> _folders = [];
    private readonly object _gate = new();

    public ConvertedModels()
    {
        Runtime = new InferenceRuntime(new InferenceOptions { Threads = 2 });
    }

    public InferenceRuntime Runtime { get; }

    public string Folder(string model, WeightPrecision precision, IReadOnlyList<(int, int)>? ranges = null)
    {
        lock (_gate)
        {
            var key = (model + (ranges is null ? "" : string.Join(';', ranges)), precision);
            if (_folders.TryGetValue(key, out var existing))
                return existing;
            var (_, checkpoint, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == model);
            var folder = Path.Combine(_root.Path, $"{model}-{precision.ToName()}-{_folders.Count}");
            ModelConverter.Convert(checkpoint, tokenizer, folder, new ConversionOptions { Precision = precision, LayerRanges = ranges, Name = model });
            _folders[key] = folder;
            return folder;
        }
    }

    /// <summary>A checkpoint converted with the given options (block size, zero points, activation-aware scaling), once per run.</summary>
    public string Folder(string checkpoint, string tokenizer, ConversionOptions options)
    {
        lock (_gate)
        {
            var key = ($"{checkpoint}|{options.EffectiveBlockSize}|{options.Asymmetric}|{options.CalibrationTextPath}|{options.AccuracyLevel}|{options.EffectiveKvPrecision.ToName()}", options.Precision);
            if (_folders.TryGetValue(key, out var existing))
                return existing;
            var folder = Path.Combine(_root.Path, $"{Path.GetFileNameWithoutExtension(checkpoint)}-{options.Precision.ToName()}-{_folders.Count}");
            ModelConverter.Convert(checkpoint, tokenizer, folder, options with { Name = Path.GetFileNameWithoutExtension(checkpoint) });
            _folders[key] = folder;
            return folder;
        }
    }

    public void Dispose()
    {
        _root.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ConvertedModelsCollection : ICollectionFixture<ConvertedModels>
{
    public const string Name = "converted models";
}
