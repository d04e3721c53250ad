using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace EdgeNode.OnnxRuntime;

/// <summary>
/// The ONNX Runtime library this process uses, behind the official managed API. A process holds one ORT (its
/// environment and thread pools are process-wide), so the library is chosen, checked and loaded once, and the
/// managed API's P/Invokes are pointed at it by a DllImport resolver: that is how a vendor build on a board
/// (Jetson, QNN, CUDA) replaces the CPU library that ships beside the binary.
/// </summary>
public sealed unsafe class OrtRuntime
{
    private static readonly Lock s_gate = new();
    private static OrtRuntime? s_loaded;
    private static (string Path, nint Handle, string Version)? s_library;

    private OrtRuntime(string libraryPath, string version, OrtLoggingLevel logLevel)
    {
        LibraryPath = libraryPath;
        Version = version;
        Environment = CreateOrJoinEnvironment(logLevel);
        AvailableProviders = Environment.GetAvailableProviders();
    }

    /// <summary>
    /// The process's one ORT environment. The managed API makes a default one the first time anything asks for it
    /// (an InferenceSession, OrtEnv.Instance()), and that can happen on another thread before <see cref="Load"/>;
    /// a second environment cannot exist, so Load then joins that one and sets its logging level.
    /// </summary>
    private static OrtEnv CreateOrJoinEnvironment(OrtLoggingLevel logLevel)
    {
        if (!OrtEnv.IsCreated)
        {
            try
            {
                var options = new EnvironmentCreationOptions { logId = "edgenode", logLevel = logLevel };
                return OrtEnv.CreateInstanceWithOptions(ref options);
            }
            catch (OnnxRuntimeException) when (OrtEnv.IsCreated)
            {
                // Another thread made the default environment between the check and the creation.
            }
        }
        var environment = OrtEnv.Instance();
        environment.EnvLogLevel = logLevel;
        return environment;
    }

    /// <summary>ORT's version string, for example "1.31.1".</summary>
    public string Version { get; }

    public string LibraryPath { get; }

    /// <summary>The process-wide ORT environment every session is created in.</summary>
    public OrtEnv Environment { get; }

    /// <summary>Execution providers compiled into this build, for example "CPUExecutionProvider".</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <summary>The oldest library the managed API works with: the release it was built with (major.minor).</summary>
    public static Version RequiredVersion { get; } = ReadManagedVersion();

    /// <summary>
    /// Loads ONNX Runtime from <paramref name="explicitLibraryPath"/> or the places <see cref="OrtLibraryLocator"/>
    /// searches, after checking that the file is a library for this CPU and new enough. Once loaded, later calls
    /// return the same runtime; asking for a different library then is an error.
    /// </summary>
    public static OrtRuntime Load(string? explicitLibraryPath = null, bool verboseLog = false)
    {
        lock (s_gate)
        {
            if (s_loaded is not null)
            {
                if (!string.IsNullOrEmpty(explicitLibraryPath) && Path.GetFullPath(explicitLibraryPath) != s_loaded.LibraryPath)
                    throw new InvalidOperationException($"ONNX Runtime is already loaded from '{s_loaded.LibraryPath}'; a process can load only one");
                return s_loaded;
            }
            var (path, _, version) = OpenLibrary(explicitLibraryPath);
            var runtime = new OrtRuntime(path, version, verboseLog ? OrtLoggingLevel.ORT_LOGGING_LEVEL_INFO : OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            Volatile.Write(ref s_loaded, runtime);
            return runtime;
        }
    }

    /// <summary>
    /// Points the managed API's P/Invokes at the library EdgeNode chose, as soon as this assembly loads: a resolver can
    /// be set once per assembly, and the managed API sets its own the first time any of its types is touched, which a
    /// caller may do (a tensor, session options) before <see cref="Load"/>. Ours comes first, and when the managed
    /// API is touched before <see cref="Load"/> it opens the default library, as <see cref="Load"/> would.
    /// </summary>
#pragma warning disable CA2255 // A module initializer in a library: the only point that runs before any caller's first use.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void InstallResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(OrtEnv).Assembly, (name, _, _) => name == "onnxruntime" ? OpenLibrary(null).Handle : 0);

    /// <summary>Chooses, checks and opens the library once; a later request for a different file is an error.</summary>
    private static (string Path, nint Handle, string Version) OpenLibrary(string? explicitLibraryPath)
    {
        lock (s_gate)
        {
            if (s_library is { } opened)
            {
                if (!string.IsNullOrEmpty(explicitLibraryPath) && Path.GetFullPath(explicitLibraryPath) != opened.Path)
                    throw new InvalidOperationException($"ONNX Runtime is already loaded from '{opened.Path}'; a process can load only one");
                return opened;
            }
            var path = OrtLibraryLocator.Locate(explicitLibraryPath);
            CheckArchitecture(path);
            var library = Open(path);
            var chosen = (path, library, ReadVersion(path, library));
            s_library = chosen;
            return chosen;
        }
    }

    /// <summary>The opened library, for the few C API entry points the managed API does not wrap (custom operators).</summary>
    internal static (string Path, nint Handle) Library
    {
        get
        {
            var (path, handle, _) = OpenLibrary(null);
            return (path, handle);
        }
    }

    public override string ToString() => $"ONNX Runtime {Version} ({LibraryPath})";

    internal static void CheckArchitecture(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsAndroid())
            return;
        // One read of the header answers both questions: is it a shared library at all, and for which CPU.
        if (SharedLibraryHeader.ReadArchitecture(path) is not { } built)
            throw new OrtLibraryException($"'{path}' is not a shared library (no ELF header). Fix: {OrtLibraryLocator.Fix}");
        var here = RuntimeInformation.ProcessArchitecture;
        if (built != here)
        {
            throw new OrtLibraryException(
                $"'{path}' is an ONNX Runtime library for {SharedLibraryHeader.Describe(built)}, but this edgenode runs on {SharedLibraryHeader.Describe(here)}. " +
                $"Fix: use the libonnxruntime.so from the linux-{OrtLibraryLocator.RuntimeIdentifier.Split('-')[1]} bundle, or point EDGENODE_ORT_LIBRARY at a build for this CPU");
        }
    }

    private static nint Open(string path)
    {
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            // dlerror's text names the missing dependency (a CUDA or QNN library of a vendor build, for example).
            var reason = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? e.Message;
            throw new OrtLibraryException($"ONNX Runtime library '{path}' could not be loaded: {reason}. Fix: install what it depends on, or {OrtLibraryLocator.Fix}");
        }
    }

    private static string ReadVersion(string path, nint library)
    {
        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBase))
            throw new OrtLibraryException($"'{path}' does not export OrtGetApiBase; it is not an ONNX Runtime library. Fix: {OrtLibraryLocator.Fix}");
        // OrtApiBase is { GetApi(uint32 version), GetVersionString() }: the version is read before the managed
        // API asks for its function table, which an older library would not have.
        var apiBase = ((delegate* unmanaged<void**>)getApiBase)();
        var version = Marshal.PtrToStringUTF8((nint)((delegate* unmanaged<byte*>)apiBase[1])()) ?? "";
        if (!System.Version.TryParse(version.Split('-', '+')[0], out var parsed) || parsed < RequiredVersion)
        {
            throw new OrtLibraryException(
                $"'{path}' is ONNX Runtime {version}; this edgenode needs {RequiredVersion.Major}.{RequiredVersion.Minor} or newer. " +
                "Fix: use a vendor build of that release or newer, or the libonnxruntime.so of the release bundle");
        }
        return version;
    }

    private static Version ReadManagedVersion()
    {
        var informational = typeof(OrtEnv).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0";
        var parsed = System.Version.Parse(informational.Split('+', '-')[0]);
        return new Version(parsed.Major, parsed.Minor);
    }
}
