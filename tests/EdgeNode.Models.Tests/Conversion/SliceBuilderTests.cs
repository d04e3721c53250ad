using EdgeNode.Models.Conversion;
using EdgeNode.Models.Import;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Conversion;

/// <summary>
/// A node that builds only its slice from the real stories260K gets the very bytes whole-model conversion writes for
/// that slice, and reads only the tensors the slice needs.
/// </summary>
public sealed class SliceBuilderTests : IDisposable
{
    private static readonly string s_checkpoint = TestPaths.Model("stories260K", "stories260K.bin");
    private static readonly string s_gguf = TestPaths.Model("stories260K", "stories260K-f32.gguf");
    private static readonly string s_tokenizer = TestPaths.Model("stories260K", "tok512.bin");

    private readonly TempDirectory _dir = TestPaths.NewTempDirectory("slice-build");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(WeightPrecision.Fp32)]
    [InlineData(WeightPrecision.Int8)]
    [InlineData(WeightPrecision.Int4)]
    public void A_middle_slice_built_alone_is_byte_identical_to_the_whole_model_conversion(WeightPrecision precision)
    {
        var whole = Path.Combine(_dir.Path, "whole");
        var part = Path.Combine(_dir.Path, "part");
        var wholeManifest = ModelConverter.Convert(s_checkpoint, s_tokenizer, whole,
            new ConversionOptions { Precision = precision, LayerRanges = [(0, 1), (1, 3), (3, 5)], Name = "stories260K" });

        var partManifest = SliceBuilder.Build(s_checkpoint, null, [SliceSpec.Layers(1, 3)], part, new ConversionOptions { Precision = precision, Name = "stories260K" });

        Assert.Equal(["layers_1_3.onnx", "layers_1_3.onnx.data"], Directory.GetFiles(part).Select(Path.GetFileName).Where(n => n != "manifest.json").Order(StringComparer.Ordinal));
        foreach (var name in new[] { "layers_1_3.onnx", "layers_1_3.onnx.data" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, name)), File.ReadAllBytes(Path.Combine(part, name)));
        // The hashes a node publishes for its slice are the ones the whole conversion published.
        var wholeSlice = wholeManifest.Find(false, 1, 3, false)!;
        Assert.Equal(wholeManifest.FilesOf(wholeSlice).Select(f => (f.Path, f.Bytes, f.Sha256)), partManifest.Files.Select(f => (f.Path, f.Bytes, f.Sha256)));
        Assert.Equal("layers_1_3.onnx", Assert.Single(partManifest.Slices).File);
        Assert.False(partManifest.IsComplete);
        Assert.True(wholeManifest.IsComplete);
        Assert.Equal(wholeManifest.Precision, ModelManifest.Load(part).Precision);
    }

    [Theory]
    [InlineData("embed+0:2")]
    [InlineData("2:5+head")]
    [InlineData("embed")]
    [InlineData("head")]
    public void First_and_last_slices_equal_those_built_from_every_weight(string text)
    {
        var all = Llama2cCheckpoint.Read(s_checkpoint);
        var spec = SliceSpec.Parse(text, all.Config.Layers);
        var reference = Path.Combine(_dir.Path, "reference");
        Directory.CreateDirectory(reference);
        new LlamaSliceBuilder(all, WeightPrecision.Fp32).Build(spec, Path.Combine(reference, spec.FileName));

        var part = Path.Combine(_dir.Path, "part");
        var manifest = SliceBuilder.Build(s_checkpoint, s_tokenizer, [spec], part, new ConversionOptions { Name = "stories260K" });

        foreach (var file in Directory.GetFiles(reference))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(part, Path.GetFileName(file))));
        Assert.Equal("tokenizer.bin", manifest.Tokenizer);
        Assert.Contains(manifest.Files, f => f.Path == "tokenizer.bin");
    }

    [Fact]
    public void A_gguf_slice_is_built_from_the_gguf_alone_with_the_same_bytes_as_from_all_its_weights()
    {
        var all = GgufCheckpoint.Read(s_gguf);
        var reference = Path.Combine(_dir.Path, "reference");
        Directory.CreateDirectory(reference);
        new LlamaSliceBuilder(all, WeightPrecision.Fp32).Build(SliceSpec.Layers(2, 4), Path.Combine(reference, "layers_2_4.onnx"));

        var part = Path.Combine(_dir.Path, "part");
        SliceBuilder.Build(s_gguf, null, [SliceSpec.Layers(2, 4)], part, new ConversionOptions());

        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "layers_2_4.onnx.data")), File.ReadAllBytes(Path.Combine(part, "layers_2_4.onnx.data")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "layers_2_4.onnx")), File.ReadAllBytes(Path.Combine(part, "layers_2_4.onnx")));
    }

    [Fact]
    public void A_slice_of_a_sharded_hugging_face_folder_equals_the_one_built_from_every_weight()
    {
        var hf = Path.Combine(_dir.Path, "hf");
        Directory.CreateDirectory(hf);
        HuggingFaceFolderBuilder.Write(hf, Llama2cCheckpoint.Read(s_checkpoint), "LlamaForCausalLM", tie: true, shards: 3);
        var all = HuggingFaceCheckpoint.Read(hf);
        var reference = Path.Combine(_dir.Path, "reference");
        Directory.CreateDirectory(reference);
        var spec = SliceSpec.Parse("3:5+head", all.Config.Layers);
        new LlamaSliceBuilder(all, WeightPrecision.Int8, 32).Build(spec, Path.Combine(reference, spec.FileName));

        var part = Path.Combine(_dir.Path, "part");
        SliceBuilder.Build(hf, null, [spec], part, new ConversionOptions { Precision = WeightPrecision.Int8, BlockSize = 32 });

        var read = HuggingFaceCheckpoint.Read(hf, WeightSelection.For([spec]));
        Assert.Empty(read.Layers[0].W1);
        Assert.Same(read.TokenEmbedding, read.Classifier); // tied: the head reads the embedding tensor
        foreach (var file in Directory.GetFiles(reference))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(part, Path.GetFileName(file))));
    }

    [Fact]
    public void A_partial_read_holds_only_the_selected_tensors_and_they_equal_a_full_read()
    {
        var all = Llama2cCheckpoint.Read(s_checkpoint);
        var selection = WeightSelection.For([SliceSpec.Layers(1, 3)]);
        var part = Llama2cCheckpoint.Read(s_checkpoint, selection);
        var gguf = GgufCheckpoint.Read(s_gguf, null, selection);

        Assert.Same(selection, part.Selection);
        Assert.Null(all.Selection);
        Assert.Empty(part.TokenEmbedding);
        Assert.Empty(part.RmsFinal);
        Assert.Empty(gguf.TokenEmbedding);
        for (var l = 0; l < all.Config.Layers; l++)
        {
            var inside = l is 1 or 2;
            Assert.Equal(inside ? all.Layers[l].W2 : [], part.Layers[l].W2);
            Assert.Equal(inside ? all.Layers[l].Wq : [], part.Layers[l].Wq);
            Assert.Equal(inside ? all.Layers[l].Wq.Length : 0, gguf.Layers[l].Wq.Length);
        }
        // Weights read for one slice refuse to build another, instead of writing zeros.
        var error = Assert.Throws<ArgumentException>(() => new LlamaSliceBuilder(part, WeightPrecision.Fp32).Build(SliceSpec.Layers(2, 4), Path.Combine(_dir.Path, "x.onnx")));
        Assert.Contains("layers 1:3", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Llama2cCheckpoint.Write(part, Path.Combine(_dir.Path, "x.bin")));
    }

    [Fact]
    public void Slices_built_one_after_another_into_one_folder_are_all_recorded()
    {
        var part = Path.Combine(_dir.Path, "part");
        SliceBuilder.Build(s_checkpoint, s_tokenizer, [SliceSpec.EmbedOnly], part, new ConversionOptions { Name = "stories260K" });
        var manifest = SliceBuilder.Build(s_checkpoint, null, [SliceSpec.Layers(0, 5), SliceSpec.HeadOnly(5)], part, new ConversionOptions { Name = "stories260K" });

        Assert.Equal(["embed.onnx", "layers_0_5.onnx", "head.onnx"], manifest.Slices.Select(s => s.File));
        Assert.True(manifest.IsComplete);
        Assert.Equal("tokenizer.bin", manifest.Tokenizer);
        Assert.Equal(Directory.GetFiles(part).Select(Path.GetFileName).Where(n => n != "manifest.json").Order(StringComparer.Ordinal), manifest.Files.Select(f => f.Path));

        var error = Assert.Throws<ArgumentException>(() => SliceBuilder.Build(s_checkpoint, null, [SliceSpec.Layers(0, 1)], part, new ConversionOptions { Name = "stories260K", Precision = WeightPrecision.Int8 }));
        Assert.Contains("another model or conversion", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("embed+0:3", true, 0, 3, false)]
    [InlineData("3:6", false, 3, 6, false)]
    [InlineData("6:9+head", false, 6, 9, true)]
    [InlineData("head", false, 9, 9, true)]
    [InlineData("embed", true, 0, 0, false)]
    public void Slices_parse_as_users_write_them(string text, bool embed, int first, int end, bool head)
    {
        var spec = SliceSpec.Parse(text, 9);
        Assert.Equal(new SliceSpec(embed, first, end, head), spec);
        Assert.Equal(text, spec.ToString());
    }

    [Theory]
    [InlineData("embed+head")]
    [InlineData("3-6")]
    [InlineData("0:2+3:4")]
    public void Malformed_slices_are_refused_with_the_part_named(string text) =>
        Assert.Throws<ArgumentException>(() => SliceSpec.Parse(text, 9));
}
