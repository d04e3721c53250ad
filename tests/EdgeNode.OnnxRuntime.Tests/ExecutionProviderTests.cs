using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.OnnxRuntime.Tests;

public sealed class ExecutionProviderTests
{
    [Fact]
    public void Unknown_provider_names_the_known_list()
    {
        var error = Assert.Throws<ArgumentException>(() => ExecutionProvider.Find("warp-drive"));

        Assert.Contains("unknown execution provider 'warp-drive'", error.Message);
        Assert.Contains("known: cpu, xnnpack, cuda, tensorrt, openvino, qnn, nnapi, coreml, dml, rocm, migraphx, snpe, webgpu", error.Message);
    }

    [Fact]
    public void Short_names_are_case_insensitive()
    {
        Assert.Equal("CUDAExecutionProvider", ExecutionProvider.Find("CUDA").OrtName);
        Assert.Equal("XnnpackExecutionProvider", ExecutionProvider.Find("XnnPack").OrtName);
    }

    [Fact]
    public void Cuda_on_the_cpu_build_falls_back_with_a_reason_naming_the_build()
    {
        var runtime = SharedOrt.Runtime;
        using var options = new SessionOptions();

        var reason = ExecutionProvider.Find("cuda").TryAppend(options, runtime, new Dictionary<string, string> { ["device_id"] = "0" });

        Assert.NotNull(reason);
        Assert.StartsWith("cuda (CUDAExecutionProvider): not in this ONNX Runtime build (1.31.1, ", reason);
        Assert.Contains(runtime.LibraryPath, reason);
        Assert.Contains("CPUExecutionProvider", reason);
    }

    [Fact]
    public void Cpu_always_appends()
    {
        using var options = new SessionOptions();

        Assert.Null(ExecutionProvider.Find("cpu").TryAppend(options, SharedOrt.Runtime, null));
    }
}
