using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>
/// Bad input gets one line on stderr that names the problem and the fix, a non-zero exit, and no stack
/// trace unless --debug asks for it.
/// </summary>
public sealed class BadInputTests(AgentHome home) : IClassFixture<AgentHome>
{
    private static string Checkpoint => TestPaths.Model("stories260K", "stories260K.bin");
    private static string Tokenizer => TestPaths.Model("stories260K", "tok512.bin");

    [Fact]
    public void TruncatedCheckpoint()
    {
        using var dir = TestPaths.NewTempDirectory("truncated");
        var path = dir.File("model.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(Checkpoint)[..600_000]);
        var result = Generate(path, Tokenizer);
        AssertOneLineError(result, 1, "truncated", "fetch it again");
    }

    [Fact]
    public void WrongHeader()
    {
        using var dir = TestPaths.NewTempDirectory("header");
        var path = dir.File("model.bin");
        var bytes = File.ReadAllBytes(Checkpoint);
        BitConverter.GetBytes(3).CopyTo(bytes, 16);   // n_kv_heads = 3 does not divide n_heads = 8
        File.WriteAllBytes(path, bytes);
        AssertOneLineError(Generate(path, Tokenizer), 1, "n_kv_heads");
    }

    [Fact]
    public void TokenizerWhoseVocabDoesNotMatch()
    {
        var result = Generate(Checkpoint, TestPaths.Model("llama2-tokenizer", "tokenizer.bin"));
        AssertOneLineError(result, 1, "32000", "512", "--tokenizer");
    }

    [Fact]
    public void UnknownExecutionProvider()
    {
        var result = home.Run("generate", "--model", Checkpoint, "--prompt", "hi", "--ep", "warpdrive");
        AssertOneLineError(result, 1, "unknown execution provider 'warpdrive'", "xnnpack");
    }

    [Fact]
    public void MissingOnnxRuntimeLibrary()
    {
        var env = home.Environment(("EDGENODE_ORT_LIBRARY", "/nonexistent/libonnxruntime.so.1"));
        var result = AgentBinary.Run(["generate", "--model", Checkpoint, "--prompt", "hi"], env);
        AssertOneLineError(result, 1, "ONNX Runtime library not found at '/nonexistent/libonnxruntime.so.1' (from EDGENODE_ORT_LIBRARY)", "Fix: ");
    }

    [Fact]
    public void BinaryCopiedWithoutItsLibrary()
    {
        using var alone = TestPaths.NewTempDirectory("binary-alone");
        var binary = alone.File("edgenode");
        File.Copy(AgentBinary.Path, binary);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(binary, File.GetUnixFileMode(AgentBinary.Path));

        var result = AgentBinary.RunAt(binary, ["generate", "--model", Checkpoint, "--prompt", "hi"], home.Environment(("EDGENODE_ORT_LIBRARY", null)));

        AssertOneLineError(result, 1, $"ONNX Runtime library not found; looked for {alone.File("libonnxruntime.so")}", "put the bundle's libonnxruntime.so beside edgenode");
    }

    [Fact]
    public void Arm64LibraryOnX64()
    {
        var arm64 = Path.Combine(AppContext.BaseDirectory, "foreign", "linux-arm64", "libonnxruntime.so");
        var result = AgentBinary.Run(["generate", "--model", Checkpoint, "--prompt", "hi", "--ort-library", arm64], home.Environment());
        AssertOneLineError(result, 1,
            $"'{arm64}' is an ONNX Runtime library for arm64 (aarch64), but this edgenode runs on x64.",
            "Fix: use the libonnxruntime.so from the linux-x64 bundle, or point EDGENODE_ORT_LIBRARY at a build for this CPU");
    }

    [Fact]
    public void UnknownOptionAndMissingModel()
    {
        AssertOneLineError(home.Run("generate", "--model", Checkpoint, "--prompt", "hi", "--temprature", "0"), 2, "unknown option --temprature");
        AssertOneLineError(home.Run("generate", "--model", "/no/such/model.bin", "--prompt", "hi"), 1, "not found");
        AssertOneLineError(home.Run("frobnicate"), 2, "unknown command 'frobnicate'");
    }

    [Fact]
    public void DebugShowsTheStackTrace()
    {
        var result = AgentBinary.Run(["generate", "--model", Checkpoint, "--prompt", "hi", "--ep", "warpdrive", "--debug"], home.Environment());
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("   at ", result.Stderr, StringComparison.Ordinal);
    }

    private AgentBinary.Result Generate(string checkpoint, string tokenizer) =>
        home.Run("generate", "--model", checkpoint, "--tokenizer", tokenizer, "--prompt", "hi", "--max-tokens", "4");

    private static void AssertOneLineError(AgentBinary.Result result, int exitCode, params string[] fragments)
    {
        Assert.Equal(exitCode, result.ExitCode);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line, got:\n{result.Stderr}");
        Assert.StartsWith("edgenode: error: ", lines[0], StringComparison.Ordinal);
        foreach (var fragment in fragments)
            Assert.Contains(fragment, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }
}
