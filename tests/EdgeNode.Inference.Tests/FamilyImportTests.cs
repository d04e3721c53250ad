using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Gguf;
using EdgeNode.Models.Import;
using EdgeNode.Models.Reference;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// For every supported family, random weights at the per-layer shape of a real model of that family (2 layers, 512-token
/// vocabulary; see <see cref="ModelFamilies"/>) are written the two ways such a model reaches a user — a Hugging Face folder
/// (config.json + safetensors, rotate-half Q/K rows) and a GGUF file as llama.cpp's converter lays it out — and both are
/// imported. The two imports must give bit-identical reference logits, equal to those of the weights as generated, and the
/// ONNX slices built from the import must give the reference logits, whole and split between the layers.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class FamilyImportTests(ConvertedModels models, ITestOutputHelper output)
{
    private static readonly int[] s_tokens = [1, 57, 511, 3, 260, 200, 42, 7, 388, 18];

    public static TheoryData<string> Families => new(ModelFamilies.All.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(Families))]
    public void Safetensors_and_gguf_import_to_the_same_logits_and_the_onnx_slices_reproduce_them(string name)
    {
        var family = ModelFamilies.Named(name);
        using var temp = TestPaths.NewTempDirectory("family-import");
        var folder = Directory.CreateDirectory(temp.File("hf")).FullName;
        var ggufPath = temp.File("model.gguf");

        float[][] generatedLogits;
        {
            var weights = family.GenerateWeights(seed: 1234);
            HuggingFaceFolderBuilder.Write(folder, weights, family.HuggingFaceArchitecture, family.WriteExtraConfig, tie: family.Tied,
                writeHeadDim: family.HeadDimInConfig);
            GgufModelWriter.ForModel(weights, family.GgufArchitecture, GgufTensorType.F32, writeKeyLength: family.HeadDimInConfig).Write(ggufPath);
            generatedLogits = ReferenceLogits(weights);
        }

        var fromHf = HuggingFaceCheckpoint.Read(folder);
        Assert.Equal(family.Config, fromHf.Config);
        Assert.Equal(family.Tied, fromHf.SharedClassifier);
        Assert.Equal(family.Biases, fromHf.Layers[1].Bq is not null);
        Assert.Equal(family.HeadNorms, fromHf.Layers[1].KNorm is not null);
        var hfLogits = ReferenceLogits(fromHf);

        {
            var fromGguf = GgufCheckpoint.Read(ggufPath);
            // GGUF carries Llama-3 scaling as per-pair divisors instead of its parameters; the rotation must be the same.
            Assert.Equal(family.Config with { RopeScaling = null }, fromGguf.Config with { RopeFactors = null });
            Assert.Equal(fromHf.Config.RopeFrequencies(), fromGguf.Config.RopeFrequencies());
            Assert.Equal(family.Tied, fromGguf.SharedClassifier);
            var ggufLogits = ReferenceLogits(fromGguf);
            for (var position = 0; position < s_tokens.Length; position++)
            {
                Assert.Equal(generatedLogits[position], hfLogits[position]);
                Assert.Equal(hfLogits[position], ggufLogits[position]);
            }
        }

        var config = fromHf.Config;
        var builder = new LlamaSliceBuilder(fromHf, WeightPrecision.Fp32);
        SliceSession Build(SliceSpec spec)
        {
            var path = temp.File(spec.FileName);
            builder.Build(spec, path);
            return new SliceSession(models.Runtime, path, spec, config);
        }
        using var embed = Build(SliceSpec.EmbedOnly);
        using var head = Build(SliceSpec.HeadOnly(config.Layers));
        var whole = MaxError(RunChain(embed, [SliceSpec.Layers(0, config.Layers)], head, Build), hfLogits);
        var split = MaxError(RunChain(embed, [SliceSpec.Layers(0, 1), SliceSpec.Layers(1, config.Layers)], head, Build), hfLogits);
        output.WriteLine($"random weights at the layer shape of {family.Name} (dim {config.Dim}, q width {config.QDim}, heads {config.Heads}/{config.KvHeads} " +
            $"of {config.HeadSize}): safetensors and GGUF imports bit-identical over {s_tokens.Length} positions; " +
            $"ONNX fp32 vs reference max |Δlogit| {whole:E2} (embed → layers 0-2 → head), {split:E2} (split after layer 1)");
        Assert.True(whole < 3e-4, $"{family.Name}: ONNX vs reference max |Δlogit| {whole}");
        Assert.True(split < 3e-4, $"{family.Name}: split ONNX vs reference max |Δlogit| {split}");
    }

    private static float[][] ReferenceLogits(LlamaWeights weights)
    {
        var reference = new ReferenceTransformer(weights, s_tokens.Length);
        return s_tokens.Select((token, position) => reference.Forward(token, position)).ToArray();
    }

    /// <summary>Token by token through embed → each layer slice → head, each layer slice with its own cache.</summary>
    private static float[][] RunChain(SliceSession embed, SliceSpec[] layerSpecs, SliceSession head, Func<SliceSpec, SliceSession> build)
    {
        var layers = layerSpecs.Select(build).ToArray();
        var caches = layers.Select(l => l.CreateCache(s_tokens.Length)).ToArray();
        try
        {
            var logits = new float[s_tokens.Length][];
            for (var position = 0; position < s_tokens.Length; position++)
            {
                var hidden = embed.RunTokens([s_tokens[position]], null).ToArray();
                for (var i = 0; i < layers.Length; i++)
                    hidden = layers[i].RunHidden(hidden, caches[i]).ToArray();
                logits[position] = head.RunHidden(hidden, null).ToArray();
            }
            return logits;
        }
        finally
        {
            foreach (var cache in caches)
                cache.Dispose();
            foreach (var layer in layers)
                layer.Dispose();
        }
    }

    private static double MaxError(float[][] actual, float[][] expected)
    {
        double worst = 0;
        for (var position = 0; position < expected.Length; position++)
        {
            for (var i = 0; i < expected[position].Length; i++)
                worst = Math.Max(worst, Math.Abs(actual[position][i] - expected[position][i]));
        }
        return worst;
    }
}
