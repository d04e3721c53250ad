using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Synthetic;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// A model whose embedding table is padded past its tokenizer (as Qwen's is) never generates a padding id, even when
/// the padding rows score highest: those ids name no text.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class PaddedVocabularyTests(ConvertedModels models)
{
    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void GenerationNeverPicksAnIdBeyondTheTokenizer(float temperature)
    {
        const int tokenizerSize = 32000;
        var config = new LlamaConfig(64, 128, 1, 4, 4, tokenizerSize + 64, 64);
        var weights = SyntheticCheckpoints.Generate(config, seed: 5, sharedClassifier: false);
        // Make the padding rows the classifier's favourites: the final norm keeps only channel 0 of the hidden state,
        // and the padding rows weigh that channel by +100 or -100, so whatever its sign one of them wins every step.
        Array.Clear(weights.RmsFinal);
        weights.RmsFinal[0] = 1f;
        for (var id = tokenizerSize; id < config.VocabSize; id++)
            weights.Classifier[id * config.Dim] = id % 2 == 0 ? 100f : -100f;
        using var dir = TestPaths.NewTempDirectory("padded-vocab");
        var tokenizer = Path.Combine(TestPaths.RepoRoot, "node_modules", "@lenml", "tokenizer-llama2", "models", "tokenizer.json");
        ModelConverter.Convert(weights, tokenizer, dir.Path, new ConversionOptions { Name = "padded" });
        using var local = LocalModel.Load(models.Runtime, dir.Path);

        var result = new TextGenerator(local).Generate("Once upon a time", new GenerationOptions
        {
            MaxTokens = 24,
            Sampling = new SamplingOptions { Temperature = temperature, Seed = 9 },
        });

        Assert.NotEmpty(result.Tokens);
        Assert.All(result.Tokens, id => Assert.InRange(id, 0, tokenizerSize - 1));
    }
}
