using System.Runtime.InteropServices;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// The loaded ONNX Runtime library. A process holds one ORT (its environment and thread pools are
/// process-wide), so the library is loaded once and every later <see cref="Load"/> returns the same instance.
/// </summary>
public sealed unsafe class OrtRuntime
{
    // OrtAllocatorType.OrtArenaAllocator and OrtMemType.OrtMemTypeDefault.
    private const int ArenaAllocator = 1;
    private const int MemTypeDefault = 0;

    private static readonly Lock s_gate = new();
    private static OrtRuntime? s_loaded;

    private readonly nint _library;

    private OrtRuntime(string libraryPath)
    {
        LibraryPath = libraryPath;
        _library = NativeLibrary.Load(libraryPath);
        if (!NativeLibrary.TryGetExport(_library, "OrtGetApiBase", out var getApiBase))
            throw new InvalidOperationException($"'{libraryPath}' does not export OrtGetApiBase; it is not an ONNX Runtime library");

        // OrtApiBase is { GetApi(uint32 version), GetVersionString() }.
        var apiBase = ((delegate* unmanaged<void**>)getApiBase)();
        Version = Utf8.ToString(((delegate* unmanaged<byte*>)apiBase[1])());
        var table = ((delegate* unmanaged<uint, void**>)apiBase[0])(OrtApi.RequiredVersion);
        if (table is null)
            throw new InvalidOperationException($"ONNX Runtime {Version} at '{libraryPath}' does not offer C API version {OrtApi.RequiredVersion}; ONNX Runtime 1.12 or newer is needed");
        OrtApi.Bind(table);

        AvailableProviders = ReadAvailableProviders();

        // Both live as long as the process: the memory info describes every CPU tensor created over caller
        // memory, and the default allocator is ORT's own singleton that must not be released.
        nint memoryInfo;
        OrtApi.Check(OrtApi.CreateCpuMemoryInfo(ArenaAllocator, MemTypeDefault, &memoryInfo));
        CpuMemoryInfo = memoryInfo;
        nint allocator;
        OrtApi.Check(OrtApi.GetAllocatorWithDefaultOptions(&allocator));
        DefaultAllocator = allocator;
    }

    /// <summary>ORT's version string, for example "1.30.0".</summary>
    public string Version { get; }

    public string LibraryPath { get; }

    /// <summary>The C API version requested from the library.</summary>
    public uint ApiVersion => OrtApi.RequiredVersion;

    /// <summary>Execution providers compiled into this build, for example "CPUExecutionProvider".</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    internal nint CpuMemoryInfo { get; }

    internal nint DefaultAllocator { get; }

    /// <summary>The runtime loaded so far, loading it from the default places if nothing loaded it yet.</summary>
    internal static OrtRuntime Current => Volatile.Read(ref s_loaded) ?? Load();

    /// <summary>
    /// Loads ONNX Runtime from <paramref name="explicitLibraryPath"/> or the places <see cref="OrtLibraryLocator"/> searches.
    /// Once loaded, later calls return the same runtime; asking for a different library then is an error.
    /// </summary>
    public static OrtRuntime Load(string? explicitLibraryPath = null)
    {
        lock (s_gate)
        {
            if (s_loaded is not null)
            {
                if (!string.IsNullOrEmpty(explicitLibraryPath) && Path.GetFullPath(explicitLibraryPath) != s_loaded.LibraryPath)
                    throw new InvalidOperationException($"ONNX Runtime is already loaded from '{s_loaded.LibraryPath}'; a process can load only one");
                return s_loaded;
            }
            var runtime = new OrtRuntime(OrtLibraryLocator.Locate(explicitLibraryPath));
            Volatile.Write(ref s_loaded, runtime);
            return runtime;
        }
    }

    /// <summary>Looks up a C function the library exports outside the OrtApi table (older per-provider entry points).</summary>
    internal bool TryGetExport(string name, out nint address) => NativeLibrary.TryGetExport(_library, name, out address);

    public override string ToString() => $"ONNX Runtime {Version} ({LibraryPath})";

    private static string[] ReadAvailableProviders()
    {
        byte** names;
        int count;
        OrtApi.Check(OrtApi.GetAvailableProviders(&names, &count));
        var providers = new string[count];
        for (var i = 0; i < count; i++)
            providers[i] = Utf8.ToString(names[i]);
        OrtApi.Check(OrtApi.ReleaseAvailableProviders(names, count));
        return providers;
    }
}
