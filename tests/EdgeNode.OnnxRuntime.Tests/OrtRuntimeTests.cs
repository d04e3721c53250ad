using System.Runtime.InteropServices;
using EdgeNode.TestSupport;

namespace EdgeNode.OnnxRuntime.Tests;

public sealed class OrtRuntimeTests
{
    [Fact]
    public void Loads_the_nuget_build_from_the_output_folder_and_reports_its_version()
    {
        var runtime = OrtRuntime.Load();

        Assert.Equal("1.31.1", runtime.Version);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime.so"), runtime.LibraryPath);
        Assert.Equal(new Version(1, 31), OrtRuntime.RequiredVersion);
        Assert.Same(runtime, OrtRuntime.Load());
    }

    [Fact]
    public void Lists_the_cpu_provider()
    {
        Assert.Contains("CPUExecutionProvider", OrtRuntime.Load().AvailableProviders);
    }

    [Fact]
    public void Loading_a_second_library_is_refused()
    {
        OrtRuntime.Load();
        using var folder = TestPaths.NewTempDirectory("ort-second");
        var other = folder.File("libonnxruntime.so.1");
        File.WriteAllBytes(other, [0]);

        var error = Assert.Throws<InvalidOperationException>(() => OrtRuntime.Load(other));
        Assert.Contains("already loaded", error.Message);
    }

    [Fact]
    public void Set_but_missing_explicit_path_names_that_path_and_the_fix()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgenode-no-such-dir", "libonnxruntime.so.1");

        var error = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibraryLocator.Locate(missing));

        Assert.Equal($"ONNX Runtime library not found at '{missing}' (from --ort-library). Fix: {OrtLibraryLocator.Fix}", error.Message);
        Assert.Equal([missing], error.Searched);
    }

    [Fact]
    public void Locator_prefers_a_library_beside_the_binary()
    {
        using var folder = TestPaths.NewTempDirectory("ort-beside");
        File.WriteAllBytes(folder.File("libonnxruntime.so"), [0]);
        Directory.CreateDirectory(Path.Combine(folder.Path, "runtimes", "linux-x64", "native"));
        File.WriteAllBytes(Path.Combine(folder.Path, "runtimes", "linux-x64", "native", "libonnxruntime.so"), [0]);

        Assert.Equal(folder.File("libonnxruntime.so"), OrtLibraryLocator.Locate(null, null, folder.Path));
    }

    [Fact]
    public void Locator_takes_a_vendor_builds_versioned_name()
    {
        using var folder = TestPaths.NewTempDirectory("ort-versioned");
        File.WriteAllBytes(folder.File("libonnxruntime.so.1"), [0]);

        Assert.Equal(folder.File("libonnxruntime.so.1"), OrtLibraryLocator.Locate(null, null, folder.Path));
    }

    [Fact]
    public void Locator_failure_is_one_line_listing_every_place_looked_and_the_fix()
    {
        using var folder = TestPaths.NewTempDirectory("ort-nowhere");

        var error = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibraryLocator.Locate(null, null, folder.Path));

        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(folder.File("libonnxruntime.so"), error.Message);
        Assert.Contains(Path.Combine(folder.Path, "runtimes", "linux-x64", "native", "libonnxruntime.so"), error.Message);
        Assert.EndsWith("Fix: " + OrtLibraryLocator.Fix, error.Message);
        Assert.Equal(4, error.Searched.Count);
    }

    [Fact]
    public void Environment_variable_that_points_nowhere_is_an_error()
    {
        var error = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibraryLocator.Locate(null, "/nowhere/libonnxruntime.so.1", AppContext.BaseDirectory));

        Assert.Contains("/nowhere/libonnxruntime.so.1", error.Message);
        Assert.Contains(OrtLibraryLocator.EnvironmentVariable, error.Message);
    }

    [Fact]
    public void Elf_headers_tell_the_architecture_of_both_shipped_libraries()
    {
        Assert.Equal(Architecture.X64, SharedLibraryHeader.ReadArchitecture(OrtRuntime.Load().LibraryPath));
        Assert.Equal(Architecture.Arm64, SharedLibraryHeader.ReadArchitecture(ForeignLibraries.Arm64));
    }

    [Fact]
    public void The_arm64_library_on_x64_is_refused_naming_the_file_and_the_fix()
    {
        var error = Assert.Throws<OrtLibraryException>(() => OrtRuntime.CheckArchitecture(ForeignLibraries.Arm64));

        Assert.Equal(
            $"'{ForeignLibraries.Arm64}' is an ONNX Runtime library for arm64 (aarch64), but this edgenode runs on x64. " +
            "Fix: use the libonnxruntime.so from the linux-x64 bundle, or point EDGENODE_ORT_LIBRARY at a build for this CPU",
            error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_library_is_refused()
    {
        using var folder = TestPaths.NewTempDirectory("ort-text");
        var path = folder.File("libonnxruntime.so");
        File.WriteAllText(path, "not a library");

        var error = Assert.Throws<OrtLibraryException>(() => OrtRuntime.CheckArchitecture(path));

        Assert.StartsWith($"'{path}' is not a shared library (no ELF header). Fix: ", error.Message);
    }
}

/// <summary>Libraries of other architectures, copied into the test output from the ONNX Runtime package.</summary>
internal static class ForeignLibraries
{
    public static string Arm64 => Path.Combine(AppContext.BaseDirectory, "foreign", "linux-arm64", "libonnxruntime.so");
}
