using System.Runtime.InteropServices;
using System.Text;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// Finds libonnxruntime. Boards with a vendor build (QNN, CUDA/TensorRT) point at it explicitly; elsewhere the
/// CPU build shipped inside the npm package onnxruntime-node is picked up from a node_modules folder.
/// </summary>
public static class OrtLibraryLocator
{
    public const string EnvironmentVariable = "EDGENODE_ORT_LIBRARY";

    public const string Fix = "set EDGENODE_ORT_LIBRARY=/path/to/libonnxruntime.so.1 or run `npm install onnxruntime-node@1.30.0`";

    private static readonly string[] s_globalNpmRoots = ["/usr/lib/node_modules", "/usr/local/lib/node_modules"];

    public static string Locate(string? explicitPath = null) =>
        Locate(explicitPath, Environment.GetEnvironmentVariable(EnvironmentVariable), AppContext.BaseDirectory, Environment.CurrentDirectory);

    internal static string Locate(string? explicitPath, string? environmentPath, string baseDirectory, string currentDirectory)
    {
        // A path someone set on purpose is never silently replaced by another library.
        if (!string.IsNullOrEmpty(explicitPath))
            return RequireExisting(explicitPath, "the explicitly given path");
        if (!string.IsNullOrEmpty(environmentPath))
            return RequireExisting(environmentPath, $"{EnvironmentVariable}");

        var searched = new List<string>();
        foreach (var name in LibraryFileNames())
        {
            var beside = Path.Combine(baseDirectory, name);
            searched.Add(beside);
            if (File.Exists(beside))
                return Path.GetFullPath(beside);
        }

        var packaged = Path.Combine("node_modules", "onnxruntime-node", "bin", "napi-v6", PlatformFolder(), ArchitectureFolder(), PackagedFileName());
        var visited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in new[] { baseDirectory, currentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!visited.Add(dir.FullName))
                    continue;
                var candidate = Path.Combine(dir.FullName, packaged);
                searched.Add(candidate);
                if (File.Exists(candidate))
                    return candidate;
            }
        }

        var packagedInRoot = Path.Combine("onnxruntime-node", "bin", "napi-v6", PlatformFolder(), ArchitectureFolder(), PackagedFileName());
        foreach (var root in s_globalNpmRoots)
        {
            var candidate = Path.Combine(root, packagedInRoot);
            searched.Add(candidate);
            if (File.Exists(candidate))
                return candidate;
        }

        var message = new StringBuilder("ONNX Runtime library not found. Looked in:");
        foreach (var place in searched)
            message.Append("\n  ").Append(place);
        message.Append("\nFix: ").Append(Fix);
        throw new OrtLibraryNotFoundException(message.ToString(), searched);
    }

    private static string RequireExisting(string path, string source)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
            return full;
        throw new OrtLibraryNotFoundException(
            $"ONNX Runtime library not found at '{full}' (from {source}). Fix: {Fix}",
            [full]);
    }

    private static string[] LibraryFileNames() =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    private static string PackagedFileName() =>
        OperatingSystem.IsWindows() ? "onnxruntime.dll"
        : OperatingSystem.IsMacOS() ? "libonnxruntime.1.dylib"
        : "libonnxruntime.so.1";

    private static string PlatformFolder() =>
        OperatingSystem.IsWindows() ? "win32" : OperatingSystem.IsMacOS() ? "darwin" : "linux";

    private static string ArchitectureFolder() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 => "arm64",
        _ => "x64",
    };
}
