using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models;
using EdgeNode.Models.Conversion;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// The KV cache's precision on the real stories260K: int8 conversions keep a float16 cache by default and decode as the
/// same weights do over a float32 cache; the cache takes half the bytes; fp32 conversions and folders converted before
/// the precision was recorded keep float32.
/// </summary>
[Collection(ConvertedModelsCollection.Name)]
public sealed class KvPrecisionTests(ConvertedModels models, ITestOutputHelper output)
{
    private const string Model = "stories260K";

    // Measured on the golden prompts of stories260K, teacher-forced one position at a time through the cache: the int8
    // weights over a float16 cache against the same weights over a float32 one differ by at most 0.65 in a logit, and pick
    // the same top token at 988 of 1005 positions. The float16 rounding itself moves logits by under 0.07 (0.068 with
    // float activations, accuracy level 0; 0.059 with fp32 weights); the int8 activations of accuracy level 4 amplify it,
    // as a value nudged across a rounding step moves by a whole step (with float activations 1004 of 1005 top tokens agree).
    // About three times the measured error and disagreement is accepted.
    private const float MaxLogitDifference = 2f;
    private const double MinimumTopAgreement = 0.95;

    private static readonly string s_tokenizer = TestPaths.Model(Model, "tok512.bin");

    private LocalModel Load(string folder) => LocalModel.Load(models.Runtime, folder, s_tokenizer);

    private string Int8Folder(KvPrecision? kv)
    {
        var (_, checkpoint, tokenizer) = GoldenCase.RealModels().Single(m => m.Folder == Model);
        return models.Folder(checkpoint, tokenizer, new ConversionOptions { Precision = WeightPrecision.Int8, KvPrecision = kv });
    }

    [Fact]
    public void AFloat16CacheOnInt8DecodesCloseToAFloat32Cache()
    {
        using var half = Load(Int8Folder(KvPrecision.Fp16));
        using var full = Load(Int8Folder(null));
        Assert.Equal(KvPrecision.Fp16, half.Manifest.KvPrecision);
        Assert.Equal(KvPrecision.Fp32, full.Manifest.KvPrecision);
        var vocab = half.Config.VocabSize;

        var worst = 0f;
        int agreeing = 0, total = 0, identicalRuns = 0, topAgreeing = 0, positions = 0;
        var goldens = GoldenCase.Load(Model);
        foreach (var golden in goldens)
        {
            // Teacher-forced: the prompt, then the golden continuation one position at a time, so every logit after the
            // prompt reads the keys and values back from the cache.
            int[] sequence = [.. golden.PromptTokens, .. golden.Tokens];
            using var a = half.CreateState(sequence.Length);
            using var b = full.CreateState(sequence.Length);
            Assert.All(a.Caches, c => Assert.Equal(KvPrecision.Fp16, c.Precision));
            for (var p = 0; p < sequence.Length; p++)
            {
                var x = half.Forward(sequence.AsSpan(p, 1), a).ToArray();
                var y = full.Forward(sequence.AsSpan(p, 1), b);
                for (var i = 0; i < vocab; i++)
                    worst = Math.Max(worst, Math.Abs(x[i] - y[i]));
                if (TokenSampler.ArgMax(x) == TokenSampler.ArgMax(y))
                    topAgreeing++;
                positions++;
            }

            var options = new GenerationOptions { MaxTokens = golden.MaxTokens, Sampling = SamplingOptions.Greedy };
            var fromHalf = new TextGenerator(half).Generate(golden.PromptTokens, options).Tokens;
            var fromFull = new TextGenerator(full).Generate(golden.PromptTokens, options).Tokens;
            var prefix = 0;
            while (prefix < Math.Min(fromHalf.Length, fromFull.Length) && fromHalf[prefix] == fromFull[prefix])
                prefix++;
            agreeing += prefix;
            total += Math.Max(fromHalf.Length, fromFull.Length);
            if (fromHalf.AsSpan().SequenceEqual(fromFull))
                identicalRuns++;
        }
        var topAgreement = (double)topAgreeing / positions;
        output.WriteLine($"{Model} int8, fp16 KV against fp32 KV: teacher-forced top-1 agreement {topAgreeing}/{positions}; " +
            $"free-running greedy tokens agree for {agreeing}/{total} before diverging ({identicalRuns}/{goldens.Count} prompts identical); max |Δlogit| {worst:G3}");
        Assert.True(worst <= MaxLogitDifference, $"max |Δlogit| {worst} > {MaxLogitDifference}");
        Assert.True(topAgreement >= MinimumTopAgreement, $"top-1 agreement {topAgreement:P1} < {MinimumTopAgreement:P0}");
    }

    [Fact]
    public void AFloat16CacheTakesHalfTheBytes()
    {
        using var half = Load(Int8Folder(KvPrecision.Fp16));
        using var full = Load(Int8Folder(null));
        Assert.Equal(full.KvBytesPerPosition / 2, half.KvBytesPerPosition);
        using var a = half.CreateState(half.Config.MaxSeqLen);
        using var b = full.CreateState(full.Config.MaxSeqLen);
        half.Forward([1, 403, 407], a);
        full.Forward([1, 403, 407], b);
        Assert.Equal(b.Bytes / 2, a.Bytes);
        Assert.Equal(b.AllocatedBytes / 2, a.AllocatedBytes);
    }

    [Fact]
    public void GrowingAFloat16CacheChangesNoLogit()
    {
        using var local = Load(Int8Folder(KvPrecision.Fp16));
        var context = local.Config.MaxSeqLen;
        var layers = local.Manifest.Slices.Single(s => !s.Embed && !s.Head);
        using var whole = new ConversationState([new KvCache(local.Config, layers.FirstLayer, layers.EndLayer, context, context, KvPrecision.Fp16)]);
        // Four positions first: the cache doubles several times in a few dozen steps.
        using var growing = new ConversationState([new KvCache(local.Config, layers.FirstLayer, layers.EndLayer, context, 4, KvPrecision.Fp16)]);
        var token = new int[] { 1 };
        var worst = 0f;
        for (var step = 0; step < 40; step++)
        {
            var a = local.Forward(token, whole).ToArray();
            var b = local.Forward(token, growing);
            for (var i = 0; i < a.Length; i++)
                worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            token[0] = TokenSampler.ArgMax(a);
        }
        Assert.Equal(0f, worst);
        Assert.Equal(5, growing.Caches[0].Generation);   // 4 → 8 → 16 → 32 → 64
    }

    [Fact]
    public void Fp32ConversionsKeepAFloat32Cache()
    {
        var folder = models.Folder(Model, WeightPrecision.Fp32);
        Assert.Contains("\"kv_precision\": \"fp32\"", File.ReadAllText(Path.Combine(folder, ModelManifest.FileName)), StringComparison.Ordinal);
        using var local = Load(folder);
        Assert.Equal(KvPrecision.Fp32, local.Manifest.KvPrecision);
        using var state = local.CreateState(16);
        Assert.All(state.Caches, c => Assert.Equal(KvPrecision.Fp32, c.Precision));
    }

    [Fact]
    public void AFolderWithoutTheFieldLoadsWithAFloat32Cache()
    {
        using var dir = TestPaths.NewTempDirectory("kv-old-manifest");
        var old = CopyWithoutKvPrecision(models.Folder(Model, WeightPrecision.Fp32), Path.Combine(dir.Path, "fp32"));
        using var local = Load(old);
        Assert.Equal(KvPrecision.Fp32, local.Manifest.KvPrecision);
        using var state = local.CreateState(16);
        Assert.Equal(local.Config.VocabSize, local.Forward([1, 403], state).Length);

        // A float16 folder stripped of the field is caught at load, before a budget counts the wrong bytes.
        var stripped = CopyWithoutKvPrecision(Int8Folder(KvPrecision.Fp16), Path.Combine(dir.Path, "int8"));
        var e = Assert.Throws<ModelFormatException>(() => Load(stripped));
        Assert.Contains("fp16 KV cache but the manifest says fp32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ACacheOfTheOtherPrecisionIsRefused()
    {
        using var local = Load(Int8Folder(KvPrecision.Fp16));
        var layers = local.Manifest.Slices.Single(s => !s.Embed && !s.Head);
        using var state = new ConversationState([new KvCache(local.Config, layers.FirstLayer, layers.EndLayer, 16)]);
        var e = Assert.Throws<ArgumentException>(() => local.Forward([1], state));
        Assert.Contains("fp32 keys and values but slice", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, state.Length);
    }

    private static string CopyWithoutKvPrecision(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        var manifest = Path.Combine(to, ModelManifest.FileName);
        var lines = File.ReadAllLines(manifest).Where(l => !l.Contains("\"kv_precision\"", StringComparison.Ordinal)).ToArray();
        Assert.True(lines.Length < File.ReadAllLines(manifest).Length);
        File.WriteAllLines(manifest, lines);
        return to;
    }
}
