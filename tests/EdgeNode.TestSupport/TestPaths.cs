namespace EdgeNode.TestSupport;

/// <summary>Locations the tests need, found from the test assembly's folder upward.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> s_repoRoot = new(FindRepoRoot);

    /// <summary>The repository root: the folder holding EdgeNode.sln.</summary>
    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>
    /// The shared model folder: EDGENODE_SHARED_MODELS if set, else ../shared/models beside the repository
    /// (how CI lays it out).
    /// </summary>
    public static string SharedModels
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("EDGENODE_SHARED_MODELS");
            if (!string.IsNullOrEmpty(fromEnv))
                return fromEnv;
            var beside = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "models"));
            if (!Directory.Exists(beside))
                throw new DirectoryNotFoundException($"shared models not found at {beside}; set EDGENODE_SHARED_MODELS");
            return beside;
        }
    }

    public static string Model(params string[] parts) => Path.Combine([SharedModels, .. parts]);

    /// <summary>A fresh folder under the system temp folder, removed by the caller's Dispose.</summary>
    public static TempDirectory NewTempDirectory(string label) => new(label);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeNode.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"EdgeNode.sln not found above {AppContext.BaseDirectory}");
    }
}

public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string label)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"edgenode-{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
