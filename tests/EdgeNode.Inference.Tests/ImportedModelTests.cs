using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Import;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// Imported checkpoints run through the ONNX slices: the shared F32 GGUF files (written by a converter outside
/// the project) and the real stories260K weights laid out as a Hugging Face folder (rotate-half Q/K rows,
/// safetensors, config.json) give the golden greedy tokens of their llama2.c originals.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class ImportedModelTests(ConvertedModels models)
{
    [Theory]
    [InlineData("stories260K", "stories260K-f32.gguf")]
    [InlineData("llama2xs-tok512-280K", "llama2xs-280K-f32.gguf")]
    public void SharedGgufThroughOnnxGivesTheGoldenTokens(string model, string gguf)
    {
        var weights = GgufCheckpoint.Read(TestPaths.Model(model, gguf));
        AssertGolden(model, weights);
    }

    [Fact]
    public void HuggingFaceFolderThroughOnnxGivesTheGoldenTokens()
    {
        var original = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        using var dir = TestPaths.NewTempDirectory("hf");
        HuggingFaceFolderBuilder.Write(dir.Path, original, "LlamaForCausalLM", tie: true);
        AssertGolden("stories260K", HuggingFaceCheckpoint.Read(dir.Path));
    }

    private void AssertGolden(string model, LlamaWeights weights)
    {
        var cases = GoldenCase.Load(model);
        using var dir = TestPaths.NewTempDirectory("imported");
        ModelConverter.Convert(weights, cases[0].TokenizerPath, dir.Path, new ConversionOptions { Name = model });
        using var local = LocalModel.Load(models.Runtime, dir.Path);
        var generator = new TextGenerator(local);
        foreach (var golden in cases)
        {
            var result = generator.Generate(golden.PromptTokens, new GenerationOptions { MaxTokens = golden.MaxTokens, Sampling = SamplingOptions.Greedy });
            Assert.Equal(golden.Tokens, result.Tokens);
        }
    }
}
