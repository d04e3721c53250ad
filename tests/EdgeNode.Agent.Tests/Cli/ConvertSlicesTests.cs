using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>`edgenode models convert --slices`: a pool node builds only its share, with the hashes of the whole conversion.</summary>
public sealed class ConvertSlicesTests(AgentHome home) : IClassFixture<AgentHome>
{
    [Theory]
    [InlineData("stories260K.bin", "fp32")]
    [InlineData("stories260K-q8_0.gguf", "int8")]
    public void Only_the_named_slices_are_built_with_the_hashes_of_the_whole_conversion(string checkpoint, string precision)
    {
        using var whole = TestPaths.NewTempDirectory("convert-whole");
        using var part = TestPaths.NewTempDirectory("convert-part");
        var source = TestPaths.Model("stories260K", checkpoint);
        var all = home.Run("models", "convert", source, "--out", whole.Path, "--precision", precision, "--layers", "0:2,2:4,4:5");
        Assert.True(all.ExitCode == 0, all.Stderr);

        var slice = home.Run("models", "convert", source, "--out", part.Path, "--precision", precision, "--slices", "2:4");
        Assert.True(slice.ExitCode == 0, slice.Stderr);

        var expected = all.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.EndsWith("layers_2_4.onnx", StringComparison.Ordinal) || l.EndsWith("layers_2_4.onnx.data", StringComparison.Ordinal));
        Assert.Equal(expected, slice.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["layers_2_4.onnx", "layers_2_4.onnx.data", "manifest.json"], Directory.GetFiles(part.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("building slices 2:4", slice.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_slice_with_the_embedding_or_the_head_brings_the_tokenizer()
    {
        using var part = TestPaths.NewTempDirectory("convert-ends");
        var result = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--out", part.Path, "--slices", "embed+0:2,head");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(["embed+layers_0_2.onnx", "embed+layers_0_2.onnx.data", "head.onnx", "head.onnx.data", "manifest.json", "tokenizer.bin"],
            Directory.GetFiles(part.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Slices_with_layer_ranges_or_a_malformed_slice_are_refused_with_the_reason()
    {
        using var part = TestPaths.NewTempDirectory("convert-refused");
        var both = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--out", part.Path, "--slices", "2:4", "--layers", "0:5");
        Assert.NotEqual(0, both.ExitCode);
        Assert.Contains("--slices names the slices to build", both.Stderr, StringComparison.Ordinal);

        var malformed = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--out", part.Path, "--slices", "2-4");
        Assert.NotEqual(0, malformed.ExitCode);
        Assert.Contains("'2-4' is not embed, head or a layer range", malformed.Stderr, StringComparison.Ordinal);

        var outside = home.Run("models", "convert", TestPaths.Model("stories260K", "stories260K.bin"), "--out", part.Path, "--slices", "3:9");
        Assert.NotEqual(0, outside.ExitCode);
        Assert.Contains("[3,9) is outside the model's 5 layers", outside.Stderr, StringComparison.Ordinal);
    }
}
