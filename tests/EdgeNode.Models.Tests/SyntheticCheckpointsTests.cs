using System.Text.Json;
using EdgeNode.Models.Reference;
using EdgeNode.Models.Synthetic;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

public sealed class SyntheticCheckpointsTests
{
    private static readonly LlamaConfig s_small = new(64, 160, 2, 8, 2, 512, 64);

    [Fact]
    public void Shapes_are_those_of_the_real_models()
    {
        Assert.Equal(new LlamaConfig(288, 768, 6, 6, 6, 32000, 256), SyntheticCheckpoints.Shapes["stories15M"]);
        Assert.Equal(new LlamaConfig(768, 2048, 12, 12, 12, 32000, 1024), SyntheticCheckpoints.Shapes["stories110M"]);
        Assert.Equal(new LlamaConfig(2048, 5632, 22, 32, 4, 32000, 2048), SyntheticCheckpoints.Shapes["tinyllama-1.1b"]);
        Assert.Equal(new LlamaConfig(2048, 8192, 16, 32, 8, 32000, 2048), SyntheticCheckpoints.Shapes["llama-3.2-1b"]);
        Assert.Equal(15_191_712, SyntheticCheckpoints.Shapes["stories15M"].ParameterCount);
        var tinyLlama = SyntheticCheckpoints.Shapes["tinyllama-1.1b"];
        Assert.False(SyntheticCheckpoints.HasSharedClassifier("tinyllama-1.1b"));
        // TinyLlama's published count, 1.1B, includes its separate classifier.
        Assert.Equal(1_100_048_384, tinyLlama.ParameterCount + (long)tinyLlama.VocabSize * tinyLlama.Dim);
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_different_ones()
    {
        var a = SyntheticCheckpoints.Generate(s_small, 42);
        var b = SyntheticCheckpoints.Generate(s_small, 42);
        var c = SyntheticCheckpoints.Generate(s_small, 43);
        Assert.Equal(a.TokenEmbedding, b.TokenEmbedding);
        Assert.Equal(a.Layers[1].W2, b.Layers[1].W2);
        Assert.NotEqual(a.Layers[1].W2, c.Layers[1].W2);
        // Tensors of one kind must not repeat across layers.
        Assert.NotEqual(a.Layers[0].Wq, a.Layers[1].Wq);
        Assert.True(a.SharedClassifier);
        Assert.All(a.Layers[0].RmsAtt, v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Matrices_have_the_intended_scale()
    {
        var weights = SyntheticCheckpoints.Generate(s_small, 7);
        Assert.InRange(Std(weights.Layers[0].Wq), 0.95 / 8, 1.05 / 8);                  // 1/sqrt(64)
        Assert.InRange(Std(weights.Layers[0].W2), 0.95 / Math.Sqrt(160), 1.05 / Math.Sqrt(160));
        Assert.InRange(Math.Abs(weights.Layers[0].Wq.Average()), 0, 0.01);
    }

    [Fact]
    public void Logits_spread_over_several_units_so_greedy_picks_are_not_near_ties()
    {
        var weights = SyntheticCheckpoints.Generate(SyntheticCheckpoints.Shapes["stories15M"], 1);
        var model = new ReferenceTransformer(weights, 16);
        var token = Tokenizers.Llama2cTokenizer.Bos;
        for (var position = 0; position < 8; position++)
        {
            var logits = model.Forward(token, position);
            Assert.InRange(Std(logits), 4, 8);
            var sorted = logits.OrderDescending().ToArray();
            Assert.True(sorted[0] - sorted[1] > 1e-3, $"top two logits {sorted[0]} and {sorted[1]} at position {position}");
            Assert.All(logits, v => Assert.True(float.IsFinite(v)));
            token = GreedyReference.ArgMax(logits);
        }
    }

    [Fact]
    public void A_model_directory_holds_the_generated_weights_the_tokenizer_and_a_description()
    {
        using var temp = TestPaths.NewTempDirectory("synth");
        var tokenizer = TestPaths.Model("llama2-tokenizer", "tokenizer.bin");
        var reports = new List<double>();
        SyntheticCheckpoints.WriteModelDirectory("stories15M", 5, temp.Path, tokenizer, new SynchronousProgress(reports.Add));

        Assert.Equal(1.0, reports[^1], 6);
        var read = Llama2cCheckpoint.Read(temp.File("model.bin"));
        var generated = SyntheticCheckpoints.Generate(SyntheticCheckpoints.Shapes["stories15M"], 5);
        Assert.Equal(generated.Config, read.Config);
        Assert.True(read.SharedClassifier);
        Assert.Equal(generated.TokenEmbedding, read.TokenEmbedding);
        Assert.Equal(generated.Layers[5].W3, read.Layers[5].W3);
        Assert.Equal(File.ReadAllBytes(tokenizer), File.ReadAllBytes(temp.File("tokenizer.bin")));

        using var description = JsonDocument.Parse(File.ReadAllText(temp.File("synth.json")));
        Assert.Equal("stories15M", description.RootElement.GetProperty("shape").GetString());
        Assert.Equal(5ul, description.RootElement.GetProperty("seed").GetUInt64());
        Assert.Equal("random weights at the shape of stories15M", description.RootElement.GetProperty("note").GetString());
        Assert.False(File.Exists(temp.File("model.bin.partial")));
    }

    [Fact]
    public void A_tokenizer_of_the_wrong_size_is_refused_before_writing()
    {
        using var temp = TestPaths.NewTempDirectory("synth");
        Assert.Throws<ModelFormatException>(() =>
            SyntheticCheckpoints.WriteModelDirectory("stories15M", 1, temp.Path, TestPaths.Model("stories260K", "tok512.bin")));
        Assert.False(File.Exists(temp.File("model.bin")));
    }

    private static double Std(float[] values)
    {
        var mean = values.Average();
        return Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
    }
}
