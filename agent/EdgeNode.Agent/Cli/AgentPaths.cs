namespace EdgeNode.Agent.Cli;

/// <summary>Where the agent keeps its data: EDGENODE_HOME, else $XDG_DATA_HOME/edgenode, else ~/.local/share/edgenode.</summary>
public static class AgentPaths
{
    public static string Home
    {
        get
        {
            var explicitHome = Environment.GetEnvironmentVariable("EDGENODE_HOME");
            if (!string.IsNullOrEmpty(explicitHome))
                return explicitHome;
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            var baseDir = !string.IsNullOrEmpty(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
            return Path.Combine(baseDir, "edgenode");
        }
    }

    /// <summary>Models pulled from the hub (or a mirror), one folder each.</summary>
    public static string Models => Path.Combine(Home, "models");

    /// <summary>ONNX slices converted on the fly from a checkpoint given to `generate --model`.</summary>
    public static string Converted => Path.Combine(Home, "converted");
}
