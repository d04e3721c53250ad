using EdgeNode.TestSupport;
using EdgeNode.Models.Reference;

namespace EdgeNode.Models.Tests;

public sealed class ReferenceTransformerTests
{
    [Theory]
    [MemberData(nameof(GoldenCase.AllCases), MemberType = typeof(GoldenCase))]
    public void Reproduces_the_golden_greedy_tokens(string model, int index)
    {
        var golden = GoldenCase.Load(model)[index];
        var weights = Llama2cCheckpoint.Read(golden.CheckpointPath);
        var transformer = new ReferenceTransformer(weights, weights.Config.MaxSeqLen);
        Assert.Equal(golden.Tokens, GreedyReference.Generate(transformer, golden.PromptTokens, golden.Steps));
    }

    [Fact]
    public void Running_layers_in_slices_equals_running_them_at_once()
    {
        var weights = Llama2cCheckpoint.Read(EdgeNode.TestSupport.TestPaths.Model("stories260K", "stories260K.bin"));
        var whole = new ReferenceTransformer(weights, 16);
        var sliced = new ReferenceTransformer(weights, 16);
        int[] tokens = [1, 403, 407, 261, 378];
        for (var position = 0; position < tokens.Length; position++)
        {
            var expected = whole.Forward(tokens[position], position);
            var hidden = sliced.Embed(tokens[position]);
            sliced.ForwardLayers(hidden, position, 0, 2);
            sliced.ForwardLayers(hidden, position, 2, 5);
            Assert.Equal(expected, sliced.Head(hidden));
        }
    }
}
