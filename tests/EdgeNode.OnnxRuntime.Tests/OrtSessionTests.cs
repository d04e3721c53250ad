using EdgeNode.Models.Onnx;
using EdgeNode.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeNode.OnnxRuntime.Tests;

public sealed class OrtSessionTests
{
    [Fact]
    public void Add_model_runs_and_describes_its_inputs()
    {
        using var folder = TestPaths.NewTempDirectory("ort-add");
        using var session = SharedOrt.Open(TestModels.Add(folder.Path));

        Assert.Equal(["a", "b"], session.InputNames);
        Assert.Equal(TensorElementType.Float, session.InputMetadata["a"].ElementDataType);
        Assert.Equal([-1, 3], session.InputMetadata["a"].Dimensions);
        Assert.Equal("c", Assert.Single(session.OutputNames));

        using var a = new NativeBuffer<float>(6);
        using var b = new NativeBuffer<float>(6);
        for (var i = 0; i < 6; i++)
        {
            a.Span[i] = i;
            b.Span[i] = 10 * i;
        }
        using var aValue = NativeTensor.Over(a, 2, 3);
        using var bValue = NativeTensor.Over(b, 2, 3);

        using var outputs = SharedOrt.Run(session, ["a", "b"], [aValue, bValue], ["c"]);
        var c = Assert.Single(outputs);

        Assert.Equal([2L, 3L], c.GetTensorTypeAndShape().Shape);
        Assert.Equal(TensorElementType.Float, c.GetTensorTypeAndShape().ElementDataType);
        Assert.Equal([0f, 11f, 22f, 33f, 44f, 55f], c.GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void MatMul_with_external_weight_matches_a_plain_matmul()
    {
        const int n = 512;
        var random = new Random(7);
        var weight = new float[n * n];
        for (var i = 0; i < weight.Length; i++)
            weight[i] = (float)(random.NextDouble() - 0.5);
        var x = new float[n];
        for (var i = 0; i < n; i++)
            x[i] = (float)(random.NextDouble() - 0.5);

        using var folder = TestPaths.NewTempDirectory("ort-matmul");
        var path = TestModels.MatMul(folder.Path, weight, n);
        Assert.True(new FileInfo(path + ".data").Length >= n * n * sizeof(float));
        Assert.True(new FileInfo(path).Length < 4096, "the weight must not be inline");

        using var session = SharedOrt.Open(path);
        using var input = new NativeBuffer<float>(n);
        x.CopyTo(input.Span);
        using var xValue = NativeTensor.Over(input, 1, n);
        using var outputs = SharedOrt.Run(session, ["x"], [xValue], ["y"]);

        var actual = outputs[0].GetTensorDataAsSpan<float>();
        for (var j = 0; j < n; j++)
        {
            double expected = 0;
            for (var k = 0; k < n; k++)
                expected += x[k] * weight[k * n + j];
            Assert.True(Math.Abs(expected - actual[j]) < 1e-3, $"column {j}: expected {expected}, got {actual[j]}");
        }
    }

    [Fact]
    public void IoBinding_reuses_bound_memory_across_runs()
    {
        using var folder = TestPaths.NewTempDirectory("ort-binding");
        using var session = SharedOrt.Open(TestModels.Add(folder.Path));
        using var a = new NativeBuffer<float>(3);
        using var b = new NativeBuffer<float>(3);
        using var c = new NativeBuffer<float>(3);
        using var aValue = NativeTensor.Over(a, 1, 3);
        using var bValue = NativeTensor.Over(b, 1, 3);
        using var cValue = NativeTensor.Over(c, 1, 3);
        using var binding = session.CreateIoBinding();
        using var runOptions = new RunOptions();
        binding.BindInput("a", aValue);
        binding.BindInput("b", bValue);
        binding.BindOutput("c", cValue);

        for (var step = 1; step <= 5; step++)
        {
            for (var i = 0; i < 3; i++)
            {
                a.Span[i] = step * 100 + i;
                b.Span[i] = step;
            }
            session.RunWithBinding(runOptions, binding);
            Assert.Equal([step * 101f, step * 101f + 1, step * 101f + 2], c.Span.ToArray());
        }
    }

    [Fact]
    public void IoBinding_output_allocated_by_ort_on_cpu()
    {
        using var folder = TestPaths.NewTempDirectory("ort-binding-cpu");
        using var session = SharedOrt.Open(TestModels.Add(folder.Path));
        using var a = new NativeBuffer<float>(3);
        a.Span.Fill(2);
        using var aValue = NativeTensor.Over(a, 1, 3);
        using var binding = session.CreateIoBinding();
        using var runOptions = new RunOptions();
        binding.BindInput("a", aValue);
        binding.BindInput("b", aValue);
        binding.BindOutputToDevice("c", OrtMemoryInfo.DefaultInstance);

        using (var outputs = session.RunWithBoundResults(runOptions, binding))
            Assert.Equal([4f, 4f, 4f], Assert.Single(outputs).GetTensorDataAsSpan<float>().ToArray());

        binding.ClearBoundOutputs();
        binding.ClearBoundInputs();
        Assert.Throws<OnnxRuntimeException>(() => session.RunWithBinding(runOptions, binding));
    }

    [Fact]
    public void Simplified_layer_norm_and_contrib_skip_variant_run()
    {
        const int hidden = 8;
        using var folder = TestPaths.NewTempDirectory("ort-rmsnorm");
        var path = Path.Combine(folder.Path, "norm.onnx");
        var gamma = Enumerable.Range(0, hidden).Select(i => 1f + i / 10f).ToArray();
        using (var writer = new OnnxModelWriter(path, "norm"))
        {
            writer.ImportOpset("", 21);
            writer.ImportOpset("com.microsoft", 1);
            writer.AddInput("x", OnnxElementType.Float, 1, hidden);
            writer.AddInput("skip", OnnxElementType.Float, 1, hidden);
            writer.AddOutput("plain", OnnxElementType.Float, 1, hidden);
            writer.AddOutput("skipped", OnnxElementType.Float, 1, hidden);
            writer.AddInitializer("gamma", [hidden], gamma);
            writer.AddNode("SimplifiedLayerNormalization", ["x", "gamma"], ["plain"], attributes: [OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", 1e-6f)]);
            writer.AddNode("SkipSimplifiedLayerNormalization", ["x", "skip", "gamma"], ["skipped"], domain: "com.microsoft", attributes: OnnxAttribute.Float("epsilon", 1e-6f));
            writer.Save();
        }
        Assert.False(File.Exists(path + ".data"), "nothing was large enough for external data");

        using var session = SharedOrt.Open(path);
        var x = Enumerable.Range(0, hidden).Select(i => i - 3.5f).ToArray();
        var skip = Enumerable.Range(0, hidden).Select(i => 0.25f * i).ToArray();
        using var xBuffer = new NativeBuffer<float>(hidden);
        using var skipBuffer = new NativeBuffer<float>(hidden);
        x.CopyTo(xBuffer.Span);
        skip.CopyTo(skipBuffer.Span);
        using var xValue = NativeTensor.Over(xBuffer, 1, hidden);
        using var skipValue = NativeTensor.Over(skipBuffer, 1, hidden);

        using var outputs = SharedOrt.Run(session, ["x", "skip"], [xValue, skipValue], ["plain", "skipped"]);

        AssertRmsNorm(x, gamma, outputs[0].GetTensorDataAsSpan<float>());
        AssertRmsNorm(x.Zip(skip, (p, q) => p + q).ToArray(), gamma, outputs[1].GetTensorDataAsSpan<float>());
    }

    [Fact]
    public void Attributes_of_every_kind_reach_the_runtime()
    {
        using var folder = TestPaths.NewTempDirectory("ort-attributes");
        var path = Path.Combine(folder.Path, "attributes.onnx");
        using (var writer = new OnnxModelWriter(path, "attributes"))
        {
            writer.ImportOpset("", 21);
            writer.AddInput("x", OnnxElementType.Float, 2, 3);
            writer.AddOutput("t", OnnxElementType.Float, 3, 2);
            writer.AddOutput("k", OnnxElementType.Float, 3);
            writer.AddOutput("g", OnnxElementType.Float, 2, 3);
            writer.AddOutput("i", OnnxElementType.Int64, 2, 3);
            writer.AddNode("Transpose", ["x"], ["t"], attributes: OnnxAttribute.Ints("perm", 1, 0));
            writer.AddNode("Constant", [], ["k"], attributes: OnnxAttribute.Floats("value_floats", 1.5f, -2f, 3f));
            writer.AddNode("Gelu", ["x"], ["g"], attributes: OnnxAttribute.String("approximate", "tanh"));
            writer.AddNode("Cast", ["x"], ["i"], attributes: OnnxAttribute.Int("to", (long)OnnxElementType.Int64));
            writer.SetMetadata("edgenode.kind", "test");
            writer.Save();
        }

        using var session = SharedOrt.Open(path);
        using var buffer = new NativeBuffer<float>(6);
        float[] x = [1, 2, 3, 4, 5, 6];
        x.CopyTo(buffer.Span);
        using var xValue = NativeTensor.Over(buffer, 2, 3);
        using (var outputs = SharedOrt.Run(session, ["x"], [xValue], ["t", "k", "g", "i"]))
        {
            Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
            Assert.Equal([3L, 2L], outputs[0].GetTensorTypeAndShape().Shape);
            Assert.Equal([1.5f, -2f, 3f], outputs[1].GetTensorDataAsSpan<float>().ToArray());
            var gelu = outputs[2].GetTensorDataAsSpan<float>();
            for (var i = 0; i < 6; i++)
            {
                var v = x[i];
                var expected = 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                Assert.Equal(expected, gelu[i], 4);
            }
            Assert.Equal(TensorElementType.Int64, outputs[3].GetTensorTypeAndShape().ElementDataType);
            Assert.Equal([1L, 2, 3, 4, 5, 6], outputs[3].GetTensorDataAsSpan<long>().ToArray());
        }
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan().IndexOf("edgenode.kind"u8) >= 0);
    }

    [Fact]
    public void Missing_model_fails_with_one_line_naming_the_file()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgenode-missing-model.onnx");

        var error = Assert.Throws<OnnxRuntimeException>(() => SharedOrt.Open(missing));

        var line = OrtErrors.OneLine(error);
        Assert.StartsWith("ONNX Runtime NoSuchFile: ", line);
        Assert.Contains(missing, line);
        Assert.DoesNotContain('\n', line);
    }

    [Fact]
    public void Wrong_input_name_fails_with_one_line_naming_the_input()
    {
        using var folder = TestPaths.NewTempDirectory("ort-wrong-input");
        using var session = SharedOrt.Open(TestModels.Add(folder.Path));
        using var buffer = new NativeBuffer<float>(3);
        using var value = NativeTensor.Over(buffer, 1, 3);

        var error = Assert.Throws<OnnxRuntimeException>(() => SharedOrt.Run(session, ["a", "nope"], [value, value], ["c"]));

        var line = OrtErrors.OneLine(error);
        Assert.StartsWith("ONNX Runtime InvalidArgument: ", line);
        Assert.Contains("nope", line);
    }

    [Fact]
    public void A_tensor_larger_than_its_buffer_is_refused()
    {
        using var buffer = new NativeBuffer<float>(4);
        using var value = NativeTensor.Over(buffer, 4);

        Assert.Equal(4, value.GetTensorDataAsSpan<float>().Length);
        var error = Assert.Throws<ArgumentException>(() => NativeTensor.Over(buffer, 5));
        Assert.Contains("needs 5 elements; the buffer has 4", error.Message);
    }

    private static void AssertRmsNorm(float[] x, float[] gamma, ReadOnlySpan<float> actual)
    {
        var meanSquare = x.Select(v => (double)v * v).Average();
        var scale = 1 / Math.Sqrt(meanSquare + 1e-6);
        for (var i = 0; i < x.Length; i++)
            Assert.Equal(x[i] * scale * gamma[i], actual[i], 4);
    }
}
