using EdgeNode.Kernels;
using EdgeNode.Models.Conversion;
using EdgeNode.Models.Onnx;
using EdgeNode.OnnxRuntime.CustomOps;
using EdgeNode.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace EdgeNode.OnnxRuntime.Tests;

/// <summary>
/// EdgeNode's 4-bit kernel against ONNX Runtime's own MatMulNBits on the same bytes: the kernel quantizes activations the
/// way ONNX Runtime's int8 path does, so the two differ only by the order of float sums.
/// </summary>
public sealed unsafe class CpuKernelTests : IDisposable
{
    private readonly TempDirectory _folder = new("cpu-kernels");

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(32, 1, 1)]
    [InlineData(32, 5, 2)]
    [InlineData(64, 1, 2)]
    [InlineData(64, 3, 1)]
    [InlineData(128, 1, 1)]
    [InlineData(128, 4, 2)]
    public void TheCustomOperatorComputesWhatOnnxRuntimesMatMulNBitsDoes(int blockSize, int rows, int threads)
    {
        Assert.True(CpuKernels.IsAvailable, "this test machine has neither AVX-VNNI nor arm64 dot product");
        const int k = 512, n = 71; // n not a multiple of 4: the single-row tail runs too
        var (path, input) = OneMatMul(k, n, blockSize, rows, seed: blockSize + rows);
        var stock = Run(path, input, rows, k, n, threads, ownKernel: false);
        var own = Run(path, input, rows, k, n, threads, ownKernel: true);
        var largest = stock.Max(MathF.Abs);
        Assert.True(largest > 0.1f, $"outputs too small to compare ({largest})");
        for (var i = 0; i < stock.Length; i++)
            Assert.True(MathF.Abs(stock[i] - own[i]) <= 2e-5f * largest, $"y[{i}]: ONNX Runtime {stock[i]}, EdgeNode {own[i]}");
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(256)]
    public void TheVectorPathComputesWhatThePortablePathDoes(int blockSize)
    {
        const int k = 1024, n = 37, rows = 2;
        var rng = new Random(blockSize);
        var q = new BlockQuantizer(4, blockSize).Quantize(RandomValues(rng, n * k, 0.05f), n, k);
        var x = RandomValues(rng, rows * k, 1f);
        var activations = QuantizedActivations.ForCurrentThread();
        activations.Quantize(x, rows, k, blockSize);
        var vector = new float[rows * n];
        var portable = new float[rows * n];
        fixed (byte* codes = q.Packed)
        fixed (float* scales = q.Scales)
        fixed (float* y = vector)
        fixed (float* reference = portable)
        {
            var weights = new BlockQ4Weights(codes, scales, n, k, blockSize);
            BlockQ4MatMul.Multiply(weights, activations.Rows, y, 0, n);
            BlockQ4MatMul.MultiplyPortable(weights, activations.Rows, reference, 0, n);
        }
        var largest = portable.Max(MathF.Abs);
        for (var i = 0; i < portable.Length; i++)
            Assert.True(MathF.Abs(vector[i] - portable[i]) <= 1e-5f * largest, $"y[{i}]: portable {portable[i]}, vector {vector[i]}");
        // And both are the product of the dequantized weights with x, up to the int8 rounding of x.
        var dequantized = q.Dequantize();
        for (var m = 0; m < rows; m++)
        {
            for (var row = 0; row < n; row++)
            {
                double exact = 0;
                for (var c = 0; c < k; c++)
                    exact += dequantized[row * k + c] * x[m * k + c];
                Assert.True(Math.Abs(exact - portable[m * n + row]) <= 0.02 * largest, $"y[{m},{row}]: exact {exact}, kernel {portable[m * n + row]}");
            }
        }
    }

    [Fact]
    public void OnlyFourBitNodesWithoutZeroPointsAndWithAWholeNumberOfChunksMove()
    {
        var (path, _) = OneMatMul(256, 8, 32, 1, seed: 1);
        var model = File.ReadAllBytes(path);
        bool Qualifies(OnnxNodeView node) => node.OpType == "MatMulNBits" && CpuKernels.Supports(node.Attribute("K"), node.Attribute("N"), node.Attribute("bits"), node.Attribute("block_size"), node.InputCount);
        var moved = OnnxDomainRewriter.MoveNodes(model, Qualifies, CpuKernels.Domain, 1, out var count);
        Assert.NotNull(moved);
        Assert.Equal(1, count);
        Assert.Null(OnnxDomainRewriter.MoveNodes(model, _ => false, CpuKernels.Domain, 1, out count));
        Assert.Equal(0, count);
        Assert.False(CpuKernels.Supports(256, 8, 8, 32, 3));   // 8-bit: the stock kernel
        Assert.False(CpuKernels.Supports(256, 8, 4, 32, 4));   // zero points
        Assert.False(CpuKernels.Supports(288, 8, 4, 32, 3));   // K not a multiple of 64
        Assert.False(CpuKernels.Supports(256, 8, 4, 16, 3));   // block 16
        var error = Assert.Throws<InvalidDataException>(() => OnnxDomainRewriter.MoveNodes(model.AsSpan(0, model.Length - 3), Qualifies, CpuKernels.Domain, 1, out _));
        Assert.Contains("ONNX model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AWrongInputWidthIsTheRunsErrorNotTheProcesss()
    {
        var (path, input) = OneMatMul(256, 8, 64, 1, seed: 3);
        using var session = Open(path, 1, ownKernel: true);
        using var x = OrtValue.CreateTensorValueFromMemory(input.AsSpan(0, 128).ToArray(), [1, 128]);
        var error = Assert.Throws<OnnxRuntimeException>(() => SharedOrt.Run(session, ["x"], [x], ["y"]).Dispose());
        Assert.Contains("K is 256", error.Message, StringComparison.Ordinal);
        // The session still serves a right-sized input afterwards.
        using var good = OrtValue.CreateTensorValueFromMemory(input, [1, 256]);
        using var outputs = SharedOrt.Run(session, ["x"], [good], ["y"]);
        Assert.Equal(8, outputs[0].GetTensorDataAsSpan<float>().Length);
    }

    private (string Path, float[] Input) OneMatMul(int k, int n, int blockSize, int rows, int seed)
    {
        var rng = new Random(seed);
        var q = new BlockQuantizer(4, blockSize).Quantize(RandomValues(rng, n * k, 0.05f), n, k);
        var path = Path.Combine(_folder.Path, $"matmul-{k}-{n}-{blockSize}-{rows}-{seed}.onnx");
        using (var writer = new OnnxModelWriter(path, "matmul"))
        {
            writer.ImportOpset("", 21);
            writer.ImportOpset("com.microsoft", 1);
            writer.AddInput("x", OnnxElementType.Float, "rows", "width"); // symbolic: the kernel, not ORT, checks K
            writer.AddOutput("y", OnnxElementType.Float, "rows", n);
            writer.AddInitializer("w.qweight", OnnxElementType.UInt8, [n, q.BlocksPerRow, q.BlobBytes], q.Packed);
            writer.AddInitializer("w.scales", [n, q.BlocksPerRow], q.Scales);
            writer.AddNode("MatMulNBits", ["x", "w.qweight", "w.scales"], ["y"], "com.microsoft", "w",
                OnnxAttribute.Int("K", k), OnnxAttribute.Int("N", n), OnnxAttribute.Int("bits", 4),
                OnnxAttribute.Int("block_size", blockSize), OnnxAttribute.Int("accuracy_level", 4));
            writer.Save();
        }
        return (path, RandomValues(rng, rows * k, 1f));
    }

    private static float[] Run(string path, float[] input, int rows, int k, int n, int threads, bool ownKernel)
    {
        using var session = Open(path, threads, ownKernel);
        using var x = OrtValue.CreateTensorValueFromMemory(input, [rows, k]);
        using var outputs = SharedOrt.Run(session, ["x"], [x], ["y"]);
        var y = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(rows * n, y.Length);
        return y;
    }

    private static InferenceSession Open(string path, int threads, bool ownKernel)
    {
        _ = SharedOrt.Runtime;
        using var options = new SessionOptions { IntraOpNumThreads = threads };
        if (!ownKernel)
            return new InferenceSession(path, options);
        var moved = OnnxDomainRewriter.MoveNodes(File.ReadAllBytes(path), node => node.OpType == "MatMulNBits", CpuKernels.Domain, 1, out var count);
        Assert.Equal(1, count);
        CpuKernels.AddTo(options);
        options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(path)!);
        return new InferenceSession(moved!, options);
    }

    private static float[] RandomValues(Random rng, int count, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return values;
    }
}
