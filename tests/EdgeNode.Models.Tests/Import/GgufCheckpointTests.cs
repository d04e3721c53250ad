using EdgeNode.Models.Gguf;
using EdgeNode.Models.Import;
using EdgeNode.Models.Reference;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Models.Tests.Import;

public sealed class GgufCheckpointTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> F32Copies => new()
    {
        { "stories260K", "stories260K-f32.gguf" },
        { "llama2xs-tok512-280K", "llama2xs-280K-f32.gguf" },
    };

    [Theory]
    [MemberData(nameof(F32Copies))]
    public void F32_copies_load_to_the_llama2c_weights_and_reproduce_the_golden_tokens(string folder, string ggufName)
    {
        var cases = GoldenCase.Load(folder);
        var original = Llama2cCheckpoint.Read(cases[0].CheckpointPath);
        var imported = GgufCheckpoint.Read(TestPaths.Model(folder, ggufName));
        Assert.Equal(original.Config, imported.Config);
        Assert.Equal(original.SharedClassifier, imported.SharedClassifier);
        Assert.Equal(original.TokenEmbedding, imported.TokenEmbedding);
        for (var l = 0; l < original.Layers.Length; l++)
        {
            Assert.Equal(original.Layers[l].Wq, imported.Layers[l].Wq);
            Assert.Equal(original.Layers[l].W2, imported.Layers[l].W2);
        }
        var transformer = new ReferenceTransformer(imported, imported.Config.MaxSeqLen);
        foreach (var golden in cases)
            Assert.Equal(golden.Tokens, GreedyReference.Generate(transformer, golden.PromptTokens, golden.Steps));
    }

    public static TheoryData<string, string, double> QuantizedCopies => new()
    {
        { "stories260K", "stories260K-q8_0.gguf", 0.95 },
        { "stories260K", "stories260K-q4_0.gguf", 0.7 },
        { "llama2xs-tok512-280K", "llama2xs-280K-q8_0.gguf", 0.95 },
        { "llama2xs-tok512-280K", "llama2xs-280K-q4_0.gguf", 0.7 },
    };

    /// <summary>
    /// Teacher-forced along each golden sequence: how often the quantized model's arg-max is the golden next token, and
    /// how far its logits stray from the float32 model's.
    /// </summary>
    [Theory]
    [MemberData(nameof(QuantizedCopies))]
    public void Quantized_copies_agree_with_the_golden_tokens(string folder, string ggufName, double minimumAgreement)
    {
        var cases = GoldenCase.Load(folder);
        var exact = new ReferenceTransformer(Llama2cCheckpoint.Read(cases[0].CheckpointPath), 512);
        var quantized = new ReferenceTransformer(GgufCheckpoint.Read(TestPaths.Model(folder, ggufName)), 512);
        int agreed = 0, total = 0;
        double maxError = 0;
        foreach (var golden in cases)
        {
            int[] sequence = [.. golden.PromptTokens, .. golden.Tokens];
            exact.Reset();
            quantized.Reset();
            for (var position = golden.PromptTokens.Length - 1; position < sequence.Length - 1; position++)
            {
                if (position == golden.PromptTokens.Length - 1)
                {
                    for (var p = 0; p < position; p++)
                    {
                        exact.Forward(sequence[p], p);
                        quantized.Forward(sequence[p], p);
                    }
                }
                var reference = exact.Forward(sequence[position], position);
                var logits = quantized.Forward(sequence[position], position);
                maxError = Math.Max(maxError, reference.Zip(logits, (a, b) => (double)Math.Abs(a - b)).Max());
                agreed += GreedyReference.ArgMax(logits) == sequence[position + 1] ? 1 : 0;
                total++;
            }
        }
        var agreement = (double)agreed / total;
        output.WriteLine($"{ggufName}: top-1 agreement with golden {agreed}/{total} = {agreement:P1}; max |logit - f32 logit| = {maxError:F4}");
        Assert.InRange(agreement, minimumAgreement, 1.0);
    }

    [Fact]
    public void Other_architectures_are_refused_with_the_supported_list()
    {
        var weights = FamilyCheckpoints.Generate(new LlamaConfig(64, 128, 1, 8, 2, 300, 16), true, false, 2);
        using var temp = TestPaths.NewTempDirectory("gguf-arch");
        var tokenizer = Tokenizers.Llama2cTokenizer.Load(FamilyCheckpoints.TruncatedTokenizer(temp, 300), 300);
        var path = temp.File("m.gguf");
        GgufExporter.Export(weights, tokenizer, path, GgufTensorType.F32);
        var bytes = File.ReadAllBytes(path);
        // Same length, so the header stays valid: "llama" becomes "gemma".
        var at = bytes.AsSpan().IndexOf("llama"u8);
        "gemma"u8.CopyTo(bytes.AsSpan(at));
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFormatException>(() => GgufCheckpoint.Read(path));
        Assert.Contains("m.gguf", error.Message);
        Assert.Contains("general.architecture = gemma", error.Message);
    }
}

public sealed class GgufCheckpointFamilyTests(ITestOutputHelper output)
{
    [Fact]
    public void Qwen2_gguf_keeps_rotate_half_rows_and_biases_and_matches_the_safetensors_import()
    {
        var config = new LlamaConfig(64, 128, 2, 8, 2, 300, 64) { RopeTheta = 1_000_000f, NormEps = 1e-6f };
        var weights = FamilyCheckpoints.Generate(config, sharedClassifier: true, biases: true, seed: 21);
        using var temp = TestPaths.NewTempDirectory("gguf-qwen2");
        var ggufPath = temp.File("qwen2.gguf");
        GgufModelWriter.ForModel(weights, "qwen2", GgufTensorType.F32).Write(ggufPath);
        var folder = Directory.CreateDirectory(temp.File("hf")).FullName;
        HuggingFaceFolderBuilder.Write(folder, weights, "Qwen2ForCausalLM", tie: true);

        var fromGguf = GgufCheckpoint.Read(ggufPath);
        var fromHf = HuggingFaceCheckpoint.Read(folder);
        Assert.Equal(fromHf.Config, fromGguf.Config);
        Assert.Equal(weights.Layers[1].Wq, fromGguf.Layers[1].Wq);
        Assert.Equal(weights.Layers[1].Bk, fromGguf.Layers[1].Bk);
        var a = new ReferenceTransformer(fromGguf, 16);
        var b = new ReferenceTransformer(fromHf, 16);
        for (var position = 0; position < FamilyCheckpoints.Tokens.Length; position++)
            Assert.Equal(b.Forward(FamilyCheckpoints.Tokens[position], position), a.Forward(FamilyCheckpoints.Tokens[position], position));
    }

    [Fact]
    public void Qwen3_gguf_with_wide_heads_and_q_k_norms_matches_the_safetensors_import()
    {
        // 8 heads of 16 on a 64-wide stream: q is 128 wide, as Qwen3-0.6B's is twice its hidden size.
        var config = new LlamaConfig(64, 128, 2, 8, 2, 300, 64) { HeadSize = 16, RopeTheta = 1_000_000f, NormEps = 1e-6f };
        var weights = FamilyCheckpoints.Generate(config, sharedClassifier: true, biases: false, seed: 23, headNorms: true);
        using var temp = TestPaths.NewTempDirectory("gguf-qwen3");
        var ggufPath = temp.File("qwen3.gguf");
        GgufModelWriter.ForModel(weights, "qwen3", GgufTensorType.F32).Write(ggufPath);
        Assert.Equal([16L], GgufFile.Open(ggufPath).Tensor("blk.0.attn_k_norm.weight").Dimensions);
        var folder = Directory.CreateDirectory(temp.File("hf")).FullName;
        HuggingFaceFolderBuilder.Write(folder, weights, "Qwen3ForCausalLM", tie: true);

        var fromGguf = GgufCheckpoint.Read(ggufPath);
        Assert.Equal(config, fromGguf.Config);
        Assert.Equal(128, fromGguf.Config.QDim);
        Assert.Equal(weights.Layers[1].Wq, fromGguf.Layers[1].Wq);
        Assert.Equal(weights.Layers[1].QNorm, fromGguf.Layers[1].QNorm);
        Assert.Equal(weights.Layers[0].KNorm, fromGguf.Layers[0].KNorm);
        var a = new ReferenceTransformer(fromGguf, 16);
        var b = new ReferenceTransformer(HuggingFaceCheckpoint.Read(folder), 16);
        for (var position = 0; position < FamilyCheckpoints.Tokens.Length; position++)
            Assert.Equal(b.Forward(FamilyCheckpoints.Tokens[position], position), a.Forward(FamilyCheckpoints.Tokens[position], position));
    }

    [Fact]
    public void Q_k_norms_in_a_non_qwen3_gguf_and_unequal_key_and_value_heads_are_refused()
    {
        var config = new LlamaConfig(64, 128, 1, 8, 2, 300, 16) { HeadSize = 16 };
        var weights = FamilyCheckpoints.Generate(config, sharedClassifier: true, biases: false, seed: 2, headNorms: true);
        using var temp = TestPaths.NewTempDirectory("gguf-bad-heads");
        var llamaPath = temp.File("llama-with-norms.gguf");
        GgufModelWriter.ForModel(weights, "llama", GgufTensorType.F32).Write(llamaPath);
        var error = Assert.Throws<ModelFormatException>(() => GgufCheckpoint.Read(llamaPath));
        Assert.Contains("llama-with-norms.gguf: tensor blk.0.attn_q_norm.weight", error.Message);
        Assert.Contains("only the qwen3 architecture", error.Message);

        var valuePath = temp.File("value-length.gguf");
        GgufModelWriter.ForModel(weights, "qwen3", GgufTensorType.F32).Set("qwen3.attention.value_length", 8u).Write(valuePath);
        error = Assert.Throws<ModelFormatException>(() => GgufCheckpoint.Read(valuePath));
        Assert.Contains("qwen3.attention.value_length = 8 differs from the key head size 16", error.Message);
    }

    [Fact]
    public void K_quant_gguf_loads_to_the_dequantized_blocks_and_stays_close_to_f32()
    {
        // Rows of 256 so every matrix can be a K-quant: Q4_K for most, Q6_K for ffn_down as in a Q4_K_M file.
        var config = new LlamaConfig(256, 256, 2, 8, 2, 300, 64);
        var weights = FamilyCheckpoints.Generate(config, sharedClassifier: false, biases: false, seed: 5);
        using var temp = TestPaths.NewTempDirectory("gguf-kquant");
        var path = temp.File("k.gguf");
        GgufModelWriter.ForModel(weights, "llama", GgufTensorType.Q4_K).Write(path);
        var file = GgufFile.Open(path);
        Assert.Equal(GgufTensorType.Q4_K, file.Tensor("blk.0.attn_q.weight").Type);
        Assert.Equal(GgufTensorType.Q6_K, file.Tensor("blk.0.ffn_down.weight").Type);

        var imported = GgufCheckpoint.Read(path);
        float[] RoundTrip(GgufTensorType type, float[] values)
        {
            var bytes = new byte[GgufBlockQuantizer.ByteCount(type, values.Length)];
            GgufBlockQuantizer.Encode(type, values, bytes);
            var decoded = new float[values.Length];
            GgufBlockQuantizer.Decode(type, bytes, decoded);
            return decoded;
        }
        Assert.Equal(RoundTrip(GgufTensorType.Q4_K, weights.Layers[1].Wk), imported.Layers[1].Wk);
        Assert.Equal(RoundTrip(GgufTensorType.Q6_K, weights.Layers[1].W2), imported.Layers[1].W2);
        Assert.Equal(weights.Layers[1].RmsFfn, imported.Layers[1].RmsFfn);

        // Random weights have no structure for quantization to preserve, so the bar is Q4_0 on the same weights: the
        // K-quant mix (4.5 and 6.6 bits per weight) must stray from float32 no more than Q4_0 (4.5 bits) does.
        var q4Path = temp.File("q4_0.gguf");
        GgufModelWriter.ForModel(weights, "llama", GgufTensorType.Q4_0).Write(q4Path);
        var (kAgreed, kError) = CompareWithF32(weights, imported);
        var (q4Agreed, q4Error) = CompareWithF32(weights, GgufCheckpoint.Read(q4Path));
        output.WriteLine($"random weights, {FamilyCheckpoints.Tokens.Length} positions: Q4_K/Q6_K top-1 agreement {kAgreed}, max logit error {kError:F3}; " +
            $"Q4_0 {q4Agreed}, {q4Error:F3}");
        Assert.True(kError <= q4Error, $"K-quant logit error {kError} exceeds Q4_0's {q4Error}");
    }

    private static (int Agreed, double MaxError) CompareWithF32(LlamaWeights weights, LlamaWeights quantizedWeights)
    {
        var exact = new ReferenceTransformer(weights, 16);
        var quantized = new ReferenceTransformer(quantizedWeights, 16);
        int agreed = 0;
        double maxError = 0;
        for (var position = 0; position < FamilyCheckpoints.Tokens.Length; position++)
        {
            var e = exact.Forward(FamilyCheckpoints.Tokens[position], position);
            var q = quantized.Forward(FamilyCheckpoints.Tokens[position], position);
            maxError = Math.Max(maxError, e.Zip(q, (x, y) => (double)Math.Abs(x - y)).Max());
            agreed += GreedyReference.ArgMax(e) == GreedyReference.ArgMax(q) ? 1 : 0;
        }
        return (agreed, maxError);
    }
}
