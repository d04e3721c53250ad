using EdgeNode.TestSupport;

namespace EdgeNode.OnnxRuntime.Tests;

public sealed class OrtSessionOptionsTests
{
    [Fact]
    public void Unknown_provider_names_the_known_list()
    {
        using var options = new OrtSessionOptions(SharedOrt.Runtime);

        var error = Assert.Throws<ArgumentException>(() => options.TryAppendExecutionProvider("warp-drive", null, out _));

        Assert.Contains("unknown execution provider 'warp-drive'", error.Message);
        Assert.Contains("known: cpu, xnnpack, cuda, tensorrt, openvino, qnn, nnapi, coreml, dml, rocm, migraphx, snpe, webgpu", error.Message);
    }

    [Fact]
    public void Cuda_on_a_cpu_build_falls_back_with_a_reason()
    {
        using var options = new OrtSessionOptions(SharedOrt.Runtime);

        var appended = options.TryAppendExecutionProvider("CUDA", new Dictionary<string, string> { ["device_id"] = "0" }, out var reason);

        Assert.False(appended);
        Assert.NotNull(reason);
        Assert.StartsWith("cuda (CUDAExecutionProvider): ", reason);
        Assert.True(reason.Length > "cuda (CUDAExecutionProvider): ".Length, "the reason carries ORT's explanation");
        Assert.Equal([reason], options.ExecutionProviderFailures);
        Assert.Empty(options.ExecutionProviders);
    }

    [Fact]
    public void Cpu_always_appends()
    {
        using var options = new OrtSessionOptions(SharedOrt.Runtime);

        Assert.True(options.TryAppendExecutionProvider("cpu", null, out var reason));
        Assert.Null(reason);
    }

    [Fact]
    public void Settings_are_accepted_and_a_session_runs_with_them()
    {
        using var folder = TestPaths.NewTempDirectory("ort-options");
        var path = TestModels.Add(folder.Path);

        using var session = SharedOrt.Open(path, options =>
        {
            options.IntraOpThreads = 2;
            options.InterOpThreads = 1;
            options.OptimizationLevel = GraphOptimizationLevel.Basic;
            options.ParallelExecution = false;
            options.CpuMemoryArena = false;
            options.AddConfigEntry("session.intra_op.allow_spinning", "0");
            Assert.Equal(2, options.IntraOpThreads);
        });

        using var buffer = new NativeBuffer<float>(3);
        buffer.Span.Fill(1.5f);
        using var value = OrtValue.CreateTensor(buffer, [1, 3]);
        using var sum = session.Run(["a", "b"], [value, value], ["c"])[0];
        Assert.Equal([3f, 3f, 3f], sum.GetData<float>().ToArray());
    }
}
