using System.Diagnostics;
using EdgeNode.Models.Onnx;
using EdgeNode.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace EdgeNode.OnnxRuntime.Tests;

/// <summary>
/// Whether ONNX Runtime's CPU GroupQueryAttention takes a float16 KV cache (half the KV memory), what it costs in
/// accuracy and time against float32, measured on one decode step at TinyLlama-1.1B's attention shape (32 query
/// heads, 4 KV heads, head 64) over a filled cache. The kernel's type constraint ties query, key, value, past and
/// present to one type, so a float16 cache means float16 q/k/v around the attention (Casts in the graph).
/// </summary>
public sealed class AttentionPrecisionTests(ITestOutputHelper output)
{
    private const int Heads = 32, KvHeads = 4, HeadSize = 64, Filled = 1024, Capacity = 2048;

    [Fact]
    public void Cpu_group_query_attention_runs_a_float16_cache_close_to_float32()
    {
        using var folder = TestPaths.NewTempDirectory("gqa-precision");
        var fp32 = WriteGraph(folder.File("gqa32.onnx"), half: false);
        var fp16 = WriteGraph(folder.File("gqa16.onnx"), half: true);

        var (out32, ms32) = RunDecodeStep(fp32, half: false);
        var (out16, ms16) = RunDecodeStep(fp16, half: true);

        var maxError = out32.Zip(out16, (a, b) => MathF.Abs(a - b)).Max();
        output.WriteLine($"decode step at {Filled} cached positions, 1 thread: float32 {ms32:F3} ms, float16 cache {ms16:F3} ms; max |Δ| {maxError:E2}");
        // Float16 keeps 11 significant bits: outputs of magnitude ~1 agree to a few 1e-3.
        Assert.True(maxError < 1e-2f, $"float16 attention differs by {maxError}");
    }

    private static string WriteGraph(string path, bool half)
    {
        var type = half ? OnnxElementType.Float16 : OnnxElementType.Float;
        using var writer = new OnnxModelWriter(path, "gqa");
        writer.ImportOpset("", 21);
        writer.ImportOpset("com.microsoft", 1);
        writer.AddInput("q", OnnxElementType.Float, 1, 1, Heads * HeadSize);
        writer.AddInput("k", OnnxElementType.Float, 1, 1, KvHeads * HeadSize);
        writer.AddInput("v", OnnxElementType.Float, 1, 1, KvHeads * HeadSize);
        writer.AddInput("past_key", type, 1, KvHeads, "cache", HeadSize);
        writer.AddInput("past_value", type, 1, KvHeads, "cache", HeadSize);
        writer.AddInput("seqlens_k", OnnxElementType.Int32, 1);
        writer.AddInput("total_sequence_length", OnnxElementType.Int32);
        writer.AddOutput("out", OnnxElementType.Float, 1, 1, Heads * HeadSize);
        writer.AddOutput("present_key", type, 1, KvHeads, "cache", HeadSize);
        writer.AddOutput("present_value", type, 1, KvHeads, "cache", HeadSize);
        var cos = new float[Capacity * HeadSize / 2];
        var sin = new float[cos.Length];
        for (var p = 0; p < Capacity; p++)
        {
            for (var j = 0; j < HeadSize / 2; j++)
            {
                var angle = p / MathF.Pow(10000f, 2f * j / HeadSize);
                cos[p * HeadSize / 2 + j] = MathF.Cos(angle);
                sin[p * HeadSize / 2 + j] = MathF.Sin(angle);
            }
        }
        writer.AddInitializer("cos32", [Capacity, HeadSize / 2], cos);
        writer.AddInitializer("sin32", [Capacity, HeadSize / 2], sin);
        string[] inputs = ["q", "k", "v", "cos32", "sin32"];
        if (half)
        {
            foreach (var name in inputs)
                writer.AddNode("Cast", [name], [name + ".h"], attributes: OnnxAttribute.Int("to", (long)OnnxElementType.Float16));
            inputs = [.. inputs.Select(n => n + ".h")];
        }
        var attentionOut = half ? "out.h" : "out";
        writer.AddNode("GroupQueryAttention",
            [inputs[0], inputs[1], inputs[2], "past_key", "past_value", "seqlens_k", "total_sequence_length", inputs[3], inputs[4]],
            [attentionOut, "present_key", "present_value"], "com.microsoft", "attn",
            OnnxAttribute.Int("num_heads", Heads), OnnxAttribute.Int("kv_num_heads", KvHeads), OnnxAttribute.Int("do_rotary", 1),
            OnnxAttribute.Float("scale", 1f / MathF.Sqrt(HeadSize)));
        if (half)
            writer.AddNode("Cast", [attentionOut], ["out"], attributes: OnnxAttribute.Int("to", (long)OnnxElementType.Float));
        writer.Save();
        return path;
    }

    /// <summary>One decode step over a cache of <see cref="Filled"/> seeded positions; the output and the median of 50 timed runs.</summary>
    private static (float[] Output, double Milliseconds) RunDecodeStep(string path, bool half)
    {
        using var session = SharedOrt.Open(path);
        var random = new Random(3);
        float Next() => (float)(random.NextDouble() * 2 - 1);
        var cacheElements = (long)KvHeads * Capacity * HeadSize;
        using var q = new NativeBuffer<float>(Heads * HeadSize);
        using var k = new NativeBuffer<float>(KvHeads * HeadSize);
        using var v = new NativeBuffer<float>(KvHeads * HeadSize);
        using var result = new NativeBuffer<float>(Heads * HeadSize);
        using var seqLens = new NativeBuffer<int>(1);
        using var total = new NativeBuffer<int>(1);
        using var keys32 = new NativeBuffer<float>(cacheElements);
        using var values32 = new NativeBuffer<float>(cacheElements);
        using var keys16 = new NativeBuffer<Half>(cacheElements);
        using var values16 = new NativeBuffer<Half>(cacheElements);
        foreach (var buffer in new[] { q, k, v })
        {
            for (var i = 0; i < buffer.Length; i++)
                buffer.Span[i] = Next();
        }
        for (var h = 0; h < KvHeads; h++)
        {
            for (var i = 0; i < Filled * HeadSize; i++)
            {
                var at = h * Capacity * HeadSize + i;
                keys32.Span[(int)at] = Next();
                values32.Span[(int)at] = Next();
                keys16.Span[(int)at] = (Half)keys32.Span[(int)at];
                values16.Span[(int)at] = (Half)values32.Span[(int)at];
            }
        }
        seqLens.Span[0] = Filled;
        total.Span[0] = Filled + 1;

        using var binding = session.CreateIoBinding();
        using var runOptions = new RunOptions();
        using var qValue = NativeTensor.Over(q, 1, 1, Heads * HeadSize);
        using var kValue = NativeTensor.Over(k, 1, 1, KvHeads * HeadSize);
        using var vValue = NativeTensor.Over(v, 1, 1, KvHeads * HeadSize);
        using var outValue = NativeTensor.Over(result, 1, 1, Heads * HeadSize);
        using var seqValue = NativeTensor.Over(seqLens, 1);
        using var totalValue = NativeTensor.Over(total);
        using var pastKey = half ? NativeTensor.Over(keys16, 1, KvHeads, Capacity, HeadSize) : NativeTensor.Over(keys32, 1, KvHeads, Capacity, HeadSize);
        using var pastValue = half ? NativeTensor.Over(values16, 1, KvHeads, Capacity, HeadSize) : NativeTensor.Over(values32, 1, KvHeads, Capacity, HeadSize);
        binding.BindInput("q", qValue);
        binding.BindInput("k", kValue);
        binding.BindInput("v", vValue);
        binding.BindInput("past_key", pastKey);
        binding.BindInput("past_value", pastValue);
        binding.BindInput("seqlens_k", seqValue);
        binding.BindInput("total_sequence_length", totalValue);
        binding.BindOutput("out", outValue);
        binding.BindOutput("present_key", pastKey);
        binding.BindOutput("present_value", pastValue);

        session.RunWithBinding(runOptions, binding);
        var first = result.Span.ToArray();
        var times = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var clock = Stopwatch.StartNew();
            session.RunWithBinding(runOptions, binding);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return (first, times[times.Count / 2]);
    }
}
