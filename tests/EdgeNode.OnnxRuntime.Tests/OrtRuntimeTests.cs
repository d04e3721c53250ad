using EdgeNode.OnnxRuntime;

namespace EdgeNode.OnnxRuntime.Tests;

public sealed class OrtRuntimeTests
{
    [Fact]
    public void Loads_the_npm_build_and_reports_its_version()
    {
        var runtime = OrtRuntime.Load();

        Assert.Equal("1.30.0", runtime.Version);
        Assert.EndsWith("libonnxruntime.so.1", runtime.LibraryPath);
        Assert.Equal(12u, runtime.ApiVersion);
        Assert.Same(runtime, OrtRuntime.Load());
    }

    [Fact]
    public void Lists_the_cpu_provider()
    {
        // GetAvailableProviders sits at slot 125: a correct list also checks the table is read at the right offsets.
        Assert.Contains("CPUExecutionProvider", OrtRuntime.Load().AvailableProviders);
    }

    [Fact]
    public void Loading_a_second_library_is_refused()
    {
        OrtRuntime.Load();
        using var folder = EdgeNode.TestSupport.TestPaths.NewTempDirectory("ort-second");
        var other = folder.File("libonnxruntime.so.1");
        File.WriteAllBytes(other, [0]);

        var error = Assert.Throws<InvalidOperationException>(() => OrtRuntime.Load(other));
        Assert.Contains("already loaded", error.Message);
    }

    [Fact]
    public void Set_but_missing_explicit_path_names_that_path()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgenode-no-such-dir", "libonnxruntime.so.1");

        var error = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibraryLocator.Locate(missing));

        Assert.Contains(missing, error.Message);
        Assert.Contains("EDGENODE_ORT_LIBRARY", error.Message);
        Assert.Contains("npm install onnxruntime-node@1.30.0", error.Message);
        Assert.Equal([missing], error.Searched);
    }

    [Fact]
    public void Locator_finds_the_npm_library_upward_from_the_test_folder()
    {
        var found = OrtLibraryLocator.Locate(null, null, AppContext.BaseDirectory, "/");

        Assert.True(File.Exists(found));
        Assert.StartsWith(EdgeNode.TestSupport.TestPaths.RepoRoot, found);
        Assert.Contains(Path.Combine("node_modules", "onnxruntime-node", "bin", "napi-v6", "linux"), found);
    }

    [Fact]
    public void Locator_prefers_a_library_beside_the_binary()
    {
        using var folder = EdgeNode.TestSupport.TestPaths.NewTempDirectory("ort-beside");
        File.WriteAllBytes(folder.File("libonnxruntime.so.1"), [0]);

        Assert.Equal(folder.File("libonnxruntime.so.1"), OrtLibraryLocator.Locate(null, null, folder.Path, folder.Path));
    }

    [Fact]
    public void Locator_failure_lists_every_place_looked_and_the_fix()
    {
        using var folder = EdgeNode.TestSupport.TestPaths.NewTempDirectory("ort-nowhere");
        if (File.Exists("/usr/lib/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1")
            || File.Exists("/usr/local/lib/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"))
            return; // a global npm install would rightly be found

        var error = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibraryLocator.Locate(null, null, folder.Path, folder.Path));

        Assert.Contains(folder.File("libonnxruntime.so.1"), error.Message);
        Assert.Contains(Path.Combine(folder.Path, "node_modules", "onnxruntime-node"), error.Message);
        Assert.Contains("/usr/lib/node_modules", error.Message);
        Assert.Contains(OrtLibraryLocator.Fix, error.Message);
    }

    [Fact]
    public void Environment_variable_that_points_nowhere_is_an_error()
    {
        var error = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibraryLocator.Locate(null, "/nowhere/libonnxruntime.so.1", AppContext.BaseDirectory, "/"));

        Assert.Contains("/nowhere/libonnxruntime.so.1", error.Message);
        Assert.Contains(OrtLibraryLocator.EnvironmentVariable, error.Message);
    }
}
