using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests.Quantization;

/// <summary>Converts weights with given options into a throwaway folder and loads them, all under one temp directory.</summary>
public sealed class QuantizedConversions : IDisposable
{
    private readonly TempDirectory _root = TestPaths.NewTempDirectory("quantization");
    private int _count;

    public QuantizedConversions()
    {
        Runtime = new InferenceRuntime(new InferenceOptions { Threads = 2 });
    }

    public InferenceRuntime Runtime { get; }

    public static string Tokenizer => TestPaths.Model("stories260K", "tok512.bin");

    public LocalModel Load(LlamaWeights weights, ConversionOptions options)
    {
        var folder = Path.Combine(_root.Path, $"model-{Interlocked.Increment(ref _count)}");
        ModelConverter.Convert(weights, Tokenizer, folder, options with { Name = "test" });
        return LocalModel.Load(Runtime, folder, Tokenizer);
    }

    public void Dispose()
    {
        _root.Dispose();
    }
}
