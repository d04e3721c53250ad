using System.Text.Json;
using EdgeNode.Models.Gguf;
using EdgeNode.Models.Import;
using EdgeNode.Models.Reference;
using EdgeNode.Models.Tokenizers;
using EdgeNode.TestSupport;

namespace EdgeNode.Models.Tests.Import;

public sealed class HuggingFaceCheckpointTests
{
    private static readonly LlamaConfig s_small = new(64, 128, 2, 8, 2, 300, 64);

    [Fact]
    public void A_llama2c_model_round_trips_through_hugging_face_layout_with_identical_logits()
    {
        // stories260K in llama2.c's interleaved order, written as a Hugging Face checkpoint with the inverse permutation
        // (rotate-half order, as HF stores it), must import to the very same bits.
        var golden = GoldenCase.Load("stories260K")[0];
        var original = Llama2cCheckpoint.Read(golden.CheckpointPath);
        using var temp = TestPaths.NewTempDirectory("hf-import");
        HuggingFaceFolderBuilder.Write(temp.Path, original, "LlamaForCausalLM", tie: true);
        Assert.NotEqual(original.Layers[0].Wq, SafetensorsWq(temp.Path)); // the file really is in the other order

        var imported = HuggingFaceCheckpoint.Read(temp.Path);
        Assert.Equal(original.Config with { NormEps = imported.Config.NormEps }, imported.Config);
        Assert.True(imported.SharedClassifier);
        for (var l = 0; l < original.Layers.Length; l++)
        {
            Assert.Equal(original.Layers[l].Wq, imported.Layers[l].Wq);
            Assert.Equal(original.Layers[l].Wk, imported.Layers[l].Wk);
            Assert.Null(imported.Layers[l].Bq);
        }
        var expected = new ReferenceTransformer(original, 32);
        var actual = new ReferenceTransformer(imported, 32);
        for (var position = 0; position < golden.PromptTokens.Length; position++)
            Assert.Equal(expected.Forward(golden.PromptTokens[position], position), actual.Forward(golden.PromptTokens[position], position));
        Assert.Equal(golden.Tokens, GreedyReference.Generate(new ReferenceTransformer(imported, imported.Config.MaxSeqLen), golden.PromptTokens, golden.Steps));
    }

    private static float[] SafetensorsWq(string folder) =>
        Safetensors.SafetensorsFile.Open(Path.Combine(folder, HuggingFaceCheckpoint.SingleFileName)).ReadFloats("model.layers.0.self_attn.q_proj.weight");

    [Fact]
    public void Sharded_checkpoints_load_through_the_index()
    {
        var original = FamilyCheckpoints.Generate(s_small, sharedClassifier: false, biases: false, seed: 3);
        using var single = TestPaths.NewTempDirectory("hf-single");
        using var sharded = TestPaths.NewTempDirectory("hf-sharded");
        HuggingFaceFolderBuilder.Write(single.Path, original, "LlamaForCausalLM");
        HuggingFaceFolderBuilder.Write(sharded.Path, original, "LlamaForCausalLM", shards: 3);
        Assert.True(File.Exists(sharded.File("model-00003-of-00003.safetensors")));
        var a = HuggingFaceCheckpoint.Read(single.Path);
        var b = HuggingFaceCheckpoint.Read(sharded.Path);
        Assert.Equal(a.Classifier, b.Classifier);
        Assert.Equal(new ReferenceTransformer(a, 8).Forward(57, 0), new ReferenceTransformer(b, 8).Forward(57, 0));
    }

    [Theory]
    [InlineData("F16", 0.03)]     // measured 1.2e-2 (BF16 1.1e-1)
    [InlineData("BF16", 0.3)]
    public void Half_precision_checkpoints_widen_to_close_logits(string dtype, double maxLogitError)
    {
        var original = FamilyCheckpoints.Generate(s_small, sharedClassifier: true, biases: false, seed: 4);
        using var temp = TestPaths.NewTempDirectory("hf-half");
        HuggingFaceFolderBuilder.Write(temp.Path, original, "LlamaForCausalLM", tie: true, dtype: dtype);
        var imported = HuggingFaceCheckpoint.Read(temp.Path);
        var expected = new ReferenceTransformer(original, 8).Forward(57, 0);
        var actual = new ReferenceTransformer(imported, 8).Forward(57, 0);
        Assert.InRange(expected.Zip(actual, (x, y) => Math.Abs(x - y)).Max(), 0, maxLogitError);
    }

    public static TheoryData<string, string> Families => new()
    {
        { "llama", "LlamaForCausalLM" },
        { "mistral", "MistralForCausalLM" },
        { "qwen2", "Qwen2ForCausalLM" },
        { "qwen3", "Qwen3ForCausalLM" },
        { "smollm2", "LlamaForCausalLM" },
        { "llama3-scaled", "LlamaForCausalLM" },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Each_family_imports_and_matches_a_rotate_half_forward_pass_and_its_gguf_copy(string family, string architecture)
    {
        var config = family switch
        {
            "qwen2" => s_small with { RopeTheta = 1_000_000f, NormEps = 1e-6f },
            // Like Qwen3-0.6B, heads wider than dim / heads: 8 heads of 16 make q 128 wide on a 64-wide stream.
            "qwen3" => s_small with { RopeTheta = 1_000_000f, NormEps = 1e-6f, HeadSize = 16 },
            "llama3-scaled" => s_small with { RopeTheta = 10000f, NormEps = 1e-5f, RopeScaling = new RopeScaling(8f, 1f, 8f, 256) },
            _ => s_small,
        };
        var tied = family is "qwen2" or "qwen3" or "smollm2";
        var weights = FamilyCheckpoints.Generate(config, tied, biases: family == "qwen2", seed: 11, headNorms: family == "qwen3");
        using var temp = TestPaths.NewTempDirectory("hf-" + family);
        var folder = Directory.CreateDirectory(temp.File("hf")).FullName;
        Action<Utf8JsonWriter>? extra = family switch
        {
            "mistral" => json => json.WriteNumber("sliding_window", 32),
            "qwen2" => json => { json.WriteNumber("sliding_window", 16); json.WriteBoolean("use_sliding_window", false); },
            "llama3-scaled" => json =>
            {
                json.WriteStartObject("rope_scaling");
                json.WriteString("rope_type", "llama3");
                json.WriteNumber("factor", 8.0);
                json.WriteNumber("low_freq_factor", 1.0);
                json.WriteNumber("high_freq_factor", 8.0);
                json.WriteNumber("original_max_position_embeddings", 256);
                json.WriteEndObject();
            },
            _ => null,
        };
        var tensors = HuggingFaceFolderBuilder.Write(folder, weights, architecture, extra, tie: tied);

        var imported = HuggingFaceCheckpoint.Read(folder);
        var expectedConfig = family == "mistral" ? config with { MaxSeqLen = 32 } : config;
        Assert.Equal(expectedConfig, imported.Config);
        Assert.Equal(tied, imported.SharedClassifier);
        Assert.Equal(family == "qwen2", imported.Layers[1].Bk is not null);
        Assert.Equal(family == "qwen3", imported.Layers[1].QNorm is not null);

        var reference = new ReferenceTransformer(imported, 16);
        var direct = new RotateHalfForward(imported.Config, tensors, tied);
        var logits = new List<float[]>();
        for (var position = 0; position < FamilyCheckpoints.Tokens.Length; position++)
        {
            var token = FamilyCheckpoints.Tokens[position];
            var actual = reference.Forward(token, position);
            var expected = direct.Forward(token, position);
            var error = actual.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(error < 2e-3, $"{family} position {position}: logits differ by up to {error}");
            Assert.Equal(GreedyReference.ArgMax(expected), GreedyReference.ArgMax(actual));
            logits.Add(actual);
        }

        if (family == "llama3-scaled")
        {
            // The scaling must matter at these positions, or the comparison above proves nothing about it.
            var unscaled = new ReferenceTransformer(new LlamaWeights
            {
                Config = imported.Config with { RopeScaling = null }, TokenEmbedding = imported.TokenEmbedding,
                Layers = imported.Layers, RmsFinal = imported.RmsFinal, Classifier = imported.Classifier,
            }, 16);
            var differs = false;
            for (var position = 0; position < FamilyCheckpoints.Tokens.Length; position++)
                differs |= !unscaled.Forward(FamilyCheckpoints.Tokens[position], position).SequenceEqual(logits[position]);
            Assert.True(differs);
            return; // the GGUF exporter carries no RoPE scaling
        }
        if (family is "qwen2" or "qwen3")
            return; // the GGUF exporter writes the llama architecture, which has no biases or q/k norms

        // The same weights through GGUF (f32) give the same logits bit for bit.
        var tokenizer = Llama2cTokenizer.Load(FamilyCheckpoints.TruncatedTokenizer(temp, config.VocabSize), config.VocabSize);
        var ggufPath = temp.File(family + ".gguf");
        GgufExporter.Export(weights, tokenizer, ggufPath, GgufTensorType.F32);
        var fromGguf = GgufCheckpoint.Read(ggufPath);
        Assert.Equal(config with { MaxSeqLen = fromGguf.Config.MaxSeqLen }, fromGguf.Config);
        var viaGguf = new ReferenceTransformer(fromGguf, 16);
        for (var position = 0; position < FamilyCheckpoints.Tokens.Length; position++)
            Assert.Equal(logits[position], viaGguf.Forward(FamilyCheckpoints.Tokens[position], position));
    }

    [Fact]
    public void Qwen3_without_its_k_norm_names_the_missing_tensor()
    {
        var weights = FamilyCheckpoints.Generate(s_small with { HeadSize = 16 }, true, false, 1, headNorms: true);
        using var temp = TestPaths.NewTempDirectory("hf-qwen3");
        var tensors = HuggingFaceFolderBuilder.Write(temp.Path, weights, "Qwen3ForCausalLM", tie: true);
        var path = Path.Combine(temp.Path, HuggingFaceCheckpoint.SingleFileName);
        var written = Safetensors.SafetensorsFile.Open(path);
        var writer = new Safetensors.SafetensorsWriter();
        foreach (var (name, values) in tensors.Where(t => t.Key != "model.layers.1.self_attn.k_norm.weight"))
            writer.Add(name, values, written.Tensor(name).Shape.ToArray(), "F32");
        writer.Write(path);
        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceCheckpoint.Read(temp.Path));
        Assert.Contains("model.layers.1.self_attn.k_norm.weight is missing", error.Message);
        Assert.Contains("Qwen3", error.Message);
    }

    [Fact]
    public void Q_norm_weights_in_a_llama_checkpoint_are_refused()
    {
        var weights = FamilyCheckpoints.Generate(s_small, true, false, 1, headNorms: true);
        using var temp = TestPaths.NewTempDirectory("hf-llama-qnorm");
        HuggingFaceFolderBuilder.Write(temp.Path, weights, "LlamaForCausalLM", tie: true);
        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceCheckpoint.Read(temp.Path));
        Assert.Contains("q_norm.weight", error.Message);
        Assert.Contains("only Qwen3ForCausalLM", error.Message);
    }

    [Fact]
    public void An_untied_model_without_lm_head_names_the_fix()
    {
        var weights = FamilyCheckpoints.Generate(s_small, false, false, 1);
        using var temp = TestPaths.NewTempDirectory("hf-nohead");
        HuggingFaceFolderBuilder.Write(temp.Path, weights, "LlamaForCausalLM", writeLmHead: false);
        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceCheckpoint.Read(temp.Path));
        Assert.Contains("lm_head.weight", error.Message);
        Assert.Contains("tie_word_embeddings", error.Message);
    }

    [Fact]
    public void A_shape_mismatch_names_tensor_found_and_expected()
    {
        var weights = FamilyCheckpoints.Generate(s_small, true, false, 1);
        using var temp = TestPaths.NewTempDirectory("hf-shape");
        HuggingFaceFolderBuilder.Write(temp.Path, weights, "LlamaForCausalLM", extraConfig: json => json.WriteNumber("intermediate_size", 96), tie: true);
        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceCheckpoint.Read(temp.Path));
        Assert.Contains("model.layers.0.mlp.gate_proj.weight has shape [128, 64], expected [96, 64]", error.Message);
    }

    [Fact]
    public void Unknown_architectures_list_the_supported_ones()
    {
        var weights = FamilyCheckpoints.Generate(s_small, true, false, 1);
        using var temp = TestPaths.NewTempDirectory("hf-arch");
        HuggingFaceFolderBuilder.Write(temp.Path, weights, "GPT2LMHeadModel", tie: true);
        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceCheckpoint.Read(temp.Path));
        Assert.Contains("GPT2LMHeadModel", error.Message);
        Assert.Contains("Qwen2ForCausalLM", error.Message);
    }

    [Fact]
    public void Rope_scaling_other_than_llama3_is_refused_and_null_means_none()
    {
        var weights = FamilyCheckpoints.Generate(s_small, true, false, 1);
        using var linear = TestPaths.NewTempDirectory("hf-linear");
        HuggingFaceFolderBuilder.Write(linear.Path, weights, "LlamaForCausalLM", extraConfig: json =>
        {
            json.WriteStartObject("rope_scaling");
            json.WriteString("type", "linear");
            json.WriteNumber("factor", 2.0);
            json.WriteEndObject();
        }, tie: true);
        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceCheckpoint.Read(linear.Path));
        Assert.Contains("rope_scaling type linear is not supported", error.Message);

        using var none = TestPaths.NewTempDirectory("hf-null-scaling");
        HuggingFaceFolderBuilder.Write(none.Path, weights, "LlamaForCausalLM", extraConfig: json => json.WriteNull("rope_scaling"), tie: true);
        Assert.Null(HuggingFaceCheckpoint.Read(none.Path).Config.RopeScaling);
    }
}
