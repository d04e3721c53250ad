using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

public sealed class Llama2cCheckpointTests
{
    private static readonly string s_stories = TestPaths.Model("stories260K", "stories260K.bin");

    [Fact]
    public void Reads_the_stories260K_header_and_tensors()
    {
        var weights = Llama2cCheckpoint.Read(s_stories);
        var c = weights.Config;
        Assert.Equal(new LlamaConfig(64, 172, 5, 8, 4, 512, 512), c);
        Assert.Equal(8, c.HeadSize);
        Assert.Equal(32, c.KvDim);
        Assert.Equal(260_032, c.ParameterCount);
        Assert.True(weights.SharedClassifier);
        Assert.Equal(5, weights.Layers.Length);
        Assert.Equal(32 * 64, weights.Layers[0].Wk.Length);
        Assert.Equal(64 * 172, weights.Layers[4].W2.Length);
    }

    [Theory]
    [InlineData("stories260K", "stories260K.bin")]
    [InlineData("llama2xs-tok512-280K", "model.bin")]
    public void Writing_what_was_read_gives_back_the_same_file(string folder, string file)
    {
        var source = TestPaths.Model(folder, file);
        using var temp = TestPaths.NewTempDirectory("ckpt");
        var copy = temp.File("copy.bin");
        var weights = Llama2cCheckpoint.Read(source);
        Llama2cCheckpoint.Write(weights, copy);

        var expected = File.ReadAllBytes(source);
        var actual = File.ReadAllBytes(copy);
        Assert.Equal(expected.Length, actual.Length);
        var layout = Llama2cLayout.Tensors(weights.Config, weights.SharedClassifier);
        var ropeStart = (int)layout.Single(s => s.Name == "freq_cis_real").ByteOffset;
        var ropeEnd = (int)layout.Single(s => s.Name == "freq_cis_imag").EndOffset;
        // Header and every weight: byte for byte.
        Assert.True(expected.AsSpan(0, ropeStart).SequenceEqual(actual.AsSpan(0, ropeStart)));
        Assert.True(expected.AsSpan(ropeEnd).SequenceEqual(actual.AsSpan(ropeEnd)));
        // The RoPE tables (which no reader uses) are cos/sin in float32; PyTorch's cos/sin are not always correctly
        // rounded (cos(1) is stored as 0.54030234, the nearest float is 0.54030228), so allow one unit in the last place.
        var original = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(expected.AsSpan(ropeStart, ropeEnd - ropeStart));
        var rewritten = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(actual.AsSpan(ropeStart, ropeEnd - ropeStart));
        for (var i = 0; i < original.Length; i++)
            Assert.True(Math.Abs(BitConverter.SingleToInt32Bits(original[i]) - BitConverter.SingleToInt32Bits(rewritten[i])) <= 1, $"freq_cis value {i}: {original[i]} vs {rewritten[i]}");
    }

    [Fact]
    public void An_unshared_classifier_round_trips_with_a_negative_vocab_size()
    {
        var weights = Llama2cCheckpoint.Read(s_stories);
        var unshared = new LlamaWeights
        {
            Config = weights.Config, TokenEmbedding = weights.TokenEmbedding, Layers = weights.Layers,
            RmsFinal = weights.RmsFinal, Classifier = weights.TokenEmbedding.Select(v => -v).ToArray(),
        };
        using var temp = TestPaths.NewTempDirectory("ckpt");
        var path = temp.File("unshared.bin");
        Llama2cCheckpoint.Write(unshared, path);
        Assert.Equal(-512, BitConverter.ToInt32(File.ReadAllBytes(path), 20));
        var back = Llama2cCheckpoint.Read(path);
        Assert.False(back.SharedClassifier);
        Assert.Equal(unshared.Classifier, back.Classifier);
        Assert.Equal(new FileInfo(s_stories).Length + 512 * 64 * 4, new FileInfo(path).Length);
    }

    [Fact]
    public void A_file_shorter_than_the_header_is_rejected()
    {
        using var temp = TestPaths.NewTempDirectory("ckpt");
        var path = temp.File("stories.bin");
        File.WriteAllBytes(path, new byte[20]);
        var error = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Read(path));
        Assert.Contains("stories.bin: 20 bytes is shorter than the 28-byte", error.Message);
    }

    [Theory]
    [InlineData(4, 3, "stories.bin: header field n_kv_heads = 3 does not divide n_heads = 8")]
    [InlineData(3, 7, "stories.bin: header field n_heads = 7 does not divide dim = 64")]
    [InlineData(0, 100000, "stories.bin: header field dim = 100000 is outside [1, 65536]")]
    [InlineData(1, -5, "stories.bin: header field hidden_dim = -5 is outside")]
    [InlineData(5, 2_000_000, "stories.bin: header field vocab_size = 2000000 is outside")]
    [InlineData(6, 0, "stories.bin: header field seq_len = 0 is outside")]
    [InlineData(4, 9, "stories.bin: header field n_kv_heads = 9 is outside [1, 8]")]
    public void Bad_header_fields_are_named(int field, int value, string expected)
    {
        using var temp = TestPaths.NewTempDirectory("ckpt");
        var path = temp.File("stories.bin");
        var bytes = File.ReadAllBytes(s_stories);
        BitConverter.GetBytes(value).CopyTo(bytes, field * 4);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Read(path));
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void A_truncated_file_names_the_tensor_and_layer_where_it_ends()
    {
        using var temp = TestPaths.NewTempDirectory("ckpt");
        var path = temp.File("stories.bin");
        var layout = Llama2cLayout.Tensors(Llama2cCheckpoint.ReadConfig(s_stories), sharedClassifier: true);
        var w2Layer3 = layout.Single(s => s.Name == "w2" && s.Layer == 3);
        var cut = (int)w2Layer3.ByteOffset + 100;
        File.WriteAllBytes(path, File.ReadAllBytes(s_stories)[..cut]);
        var error = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Read(path));
        Assert.Equal(
            $"stories.bin: truncated inside tensor w2 (layer 3): expected 1056540 bytes for this header, found {cut}; the download is incomplete — fetch it again",
            error.Message);
    }

    [Fact]
    public void Trailing_bytes_that_fit_no_layout_are_rejected()
    {
        using var temp = TestPaths.NewTempDirectory("ckpt");
        var path = temp.File("stories.bin");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(s_stories), .. new byte[12]]);
        var error = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Read(path));
        Assert.StartsWith("stories.bin: 12 trailing bytes fit no layout: this header needs exactly 1056540 bytes, found 1056552", error.Message);
    }
}
