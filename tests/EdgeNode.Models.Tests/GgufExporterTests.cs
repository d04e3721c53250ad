using EdgeNode.Models.Gguf;
using EdgeNode.Models.Tokenizers;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests;

public sealed class GgufExporterTests
{
    public static TheoryData<string, string, string, GgufTensorType> SharedCopies => new()
    {
        { "stories260K", "stories260K.bin", "stories260K-f32.gguf", GgufTensorType.F32 },
        { "stories260K", "stories260K.bin", "stories260K-q8_0.gguf", GgufTensorType.Q8_0 },
        { "stories260K", "stories260K.bin", "stories260K-q4_0.gguf", GgufTensorType.Q4_0 },
        { "llama2xs-tok512-280K", "model.bin", "llama2xs-280K-f32.gguf", GgufTensorType.F32 },
        { "llama2xs-tok512-280K", "model.bin", "llama2xs-280K-q8_0.gguf", GgufTensorType.Q8_0 },
        { "llama2xs-tok512-280K", "model.bin", "llama2xs-280K-q4_0.gguf", GgufTensorType.Q4_0 },
    };

    [Theory]
    [MemberData(nameof(SharedCopies))]
    public void Export_matches_the_shared_gguf_copy(string folder, string checkpoint, string ggufName, GgufTensorType type)
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model(folder, checkpoint));
        var tokenizer = Llama2cTokenizer.Load(TestPaths.Model("stories260K", "tok512.bin"), weights.Config.VocabSize);
        using var temp = TestPaths.NewTempDirectory("gguf");
        var path = temp.File(ggufName);
        Export(weights, tokenizer, path, type, folder);

        var expected = GgufFile.Open(TestPaths.Model(folder, ggufName));
        var actual = GgufFile.Open(path);
        Assert.Equal(expected.Tensors.Select(Describe), actual.Tensors.Select(Describe));
        foreach (var tensor in expected.Tensors)
            Assert.True(expected.ReadTensorBytes(tensor).AsSpan().SequenceEqual(actual.ReadTensorBytes(actual.Tensor(tensor.Name))), $"tensor {tensor.Name} differs");

        Assert.Equal(expected.Metadata.Keys, actual.Metadata.Keys);
        foreach (var (key, value) in expected.Metadata)
            Assert.Equal(value, actual.Metadata[key]);

        // Same keys in the same order, same tensor table and data: the whole file is the same.
        Assert.Equal(File.ReadAllBytes(TestPaths.Model(folder, ggufName)), File.ReadAllBytes(path));
    }

    [Fact]
    public void Block_types_keep_short_rows_and_norms_in_f32()
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var tokenizer = Llama2cTokenizer.Load(TestPaths.Model("stories260K", "tok512.bin"), 512);
        using var temp = TestPaths.NewTempDirectory("gguf");
        var path = temp.File("q4.gguf");
        Export(weights, tokenizer, path, GgufTensorType.Q4_0, "q4");
        var file = GgufFile.Open(path);
        Assert.Equal(GgufTensorType.F32, file.Tensor("blk.0.ffn_down.weight").Type); // rows of 172
        Assert.Equal(GgufTensorType.F32, file.Tensor("blk.0.attn_norm.weight").Type);
        Assert.Equal(GgufTensorType.Q4_0, file.Tensor("blk.0.ffn_gate.weight").Type);
        Assert.DoesNotContain(file.Tensors, t => t.Name == "output.weight");
        Assert.Equal(2u, file.Metadata["general.file_type"]);
        Assert.Equal("<s>", ((string[])file.Metadata["tokenizer.ggml.tokens"])[1]);
    }

    [Theory]
    [InlineData(GgufTensorType.Q8_0, 0.01)]
    [InlineData(GgufTensorType.Q4_0, 0.15)]
    [InlineData(GgufTensorType.F16, 5e-4)]     // measured 2.0e-4 (Q8_0 5.1e-3, Q4_0 8.2e-2)
    public void Dequantized_values_stay_close_to_the_originals(GgufTensorType type, double maxRelativeError)
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var original = weights.Layers[2].Wq;
        var encoded = new byte[GgufBlockQuantizer.ByteCount(type, original.Length)];
        GgufBlockQuantizer.Encode(type, original, encoded);
        var decoded = new float[original.Length];
        GgufBlockQuantizer.Decode(type, encoded, decoded);
        var norm = Math.Sqrt(original.Sum(v => (double)v * v));
        var error = Math.Sqrt(original.Zip(decoded, (a, b) => (double)(a - b) * (a - b)).Sum());
        Assert.InRange(error / norm, 0, maxRelativeError);
    }

    [Fact]
    public void An_unshared_classifier_gets_its_own_output_tensor()
    {
        var weights = Llama2cCheckpoint.Read(TestPaths.Model("stories260K", "stories260K.bin"));
        var unshared = new LlamaWeights
        {
            Config = weights.Config, TokenEmbedding = weights.TokenEmbedding, Layers = weights.Layers,
            RmsFinal = weights.RmsFinal, Classifier = (float[])weights.TokenEmbedding.Clone(),
        };
        var tokenizer = Llama2cTokenizer.Load(TestPaths.Model("stories260K", "tok512.bin"), 512);
        using var temp = TestPaths.NewTempDirectory("gguf");
        var path = temp.File("unshared.gguf");
        Export(unshared, tokenizer, path, GgufTensorType.F32, "unshared");
        var file = GgufFile.Open(path);
        var output = file.Tensor("output.weight");
        Assert.Equal([64L, 512L], output.Dimensions);
        Assert.Equal(unshared.Classifier, file.ReadTensorFloats(output));
    }

    [Fact]
    public void A_truncated_gguf_is_reported()
    {
        using var temp = TestPaths.NewTempDirectory("gguf");
        var path = temp.File("cut.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.Model("stories260K", "stories260K-f32.gguf"))[..500_000]);
        var error = Assert.Throws<ModelFormatException>(() => GgufFile.Open(path));
        Assert.Contains("cut.gguf: tensor", error.Message);
        Assert.Contains("fetch it again", error.Message);
    }

    private static void Export(LlamaWeights weights, Llama2cTokenizer tokenizer, string path, GgufTensorType type, string name)
    {
        var reports = new List<double>();
        GgufExporter.Export(weights, tokenizer, path, type, new SynchronousProgress(reports.Add), name);
        Assert.Equal(1.0, reports[^1], 6);
    }

    private static string Describe(GgufTensorInfo t) => $"{t.Name} [{string.Join(",", t.Dimensions)}] {t.Type} @{t.Offset}";
}
