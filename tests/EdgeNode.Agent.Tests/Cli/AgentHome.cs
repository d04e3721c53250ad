using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>One EDGENODE_HOME for a test class, so checkpoints are converted once and reused across its runs.</summary>
public sealed class AgentHome : IDisposable
{
    private readonly TempDirectory _dir = TestPaths.NewTempDirectory("home");

    public string Path => _dir.Path;

    public Dictionary<string, string?> Environment(params (string Key, string? Value)[] extra)
    {
        var env = new Dictionary<string, string?> { ["EDGENODE_HOME"] = Path, ["EDGENODE_MODEL_MIRROR"] = null };
        foreach (var (k, v) in extra)
            env[k] = v;
        return env;
    }

    public AgentBinary.Result Run(params string[] args) => AgentBinary.Run(args, Environment());

    public void Dispose() => _dir.Dispose();
}
