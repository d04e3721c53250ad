using System.Runtime.InteropServices;
using System.Text;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// Finds libonnxruntime. Boards with a vendor build (QNN, CUDA/TensorRT, a Jetson's own) point at it explicitly
/// with --ort-library or EDGENODE_ORT_LIBRARY; otherwise the library that ships beside the binary (a release
/// bundle, a publish folder) or in the build output's runtimes/&lt;rid&gt;/native folder is used.
/// </summary>
public static class OrtLibraryLocator
{
    public const string EnvironmentVariable = "EDGENODE_ORT_LIBRARY";

    public const string Fix = "put the bundle's libonnxruntime.so beside edgenode, or set EDGENODE_ORT_LIBRARY (or --ort-library) to a libonnxruntime.so built for this machine";

    public static string Locate(string? explicitPath = null) =>
        Locate(explicitPath, Environment.GetEnvironmentVariable(EnvironmentVariable), AppContext.BaseDirectory);

    internal static string Locate(string? explicitPath, string? environmentPath, string baseDirectory)
    {
        // A path someone set on purpose is never silently replaced by another library.
        if (!string.IsNullOrEmpty(explicitPath))
            return RequireExisting(explicitPath, "--ort-library");
        if (!string.IsNullOrEmpty(environmentPath))
            return RequireExisting(environmentPath, EnvironmentVariable);

        var searched = new List<string>();
        foreach (var folder in new[] { baseDirectory, Path.Combine(baseDirectory, "runtimes", RuntimeIdentifier, "native") })
        {
            foreach (var name in LibraryFileNames)
            {
                var candidate = Path.GetFullPath(Path.Combine(folder, name));
                searched.Add(candidate);
                if (File.Exists(candidate))
                    return candidate;
            }
        }

        var message = new StringBuilder("ONNX Runtime library not found; looked for ");
        message.AppendJoin(", ", searched);
        message.Append(". Fix: ").Append(Fix);
        throw new OrtLibraryNotFoundException(message.ToString(), searched);
    }

    /// <summary>The runtime identifier whose native folder the NuGet package fills, e.g. linux-arm64.</summary>
    public static string RuntimeIdentifier
    {
        get
        {
            var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            var arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.Arm64 => "arm64",
                Architecture.Arm => "arm",
                Architecture.X86 => "x86",
                _ => "x64",
            };
            return $"{os}-{arch}";
        }
    }

    private static string[] LibraryFileNames =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        // The NuGet package ships libonnxruntime.so; vendor SDKs usually install the versioned name.
        : ["libonnxruntime.so", "libonnxruntime.so.1"];

    private static string RequireExisting(string path, string source)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
            return full;
        throw new OrtLibraryNotFoundException($"ONNX Runtime library not found at '{full}' (from {source}). Fix: {Fix}", [full]);
    }
}
