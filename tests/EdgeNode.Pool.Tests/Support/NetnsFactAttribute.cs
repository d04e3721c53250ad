using EdgeNode.Pool.Bench;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Support;

/// <summary>A test that builds network namespaces: skipped, saying why, when not run as root (CI runs as root).</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (!NetworkLab.IsRoot)
            Skip = "needs root to create network namespaces and veth links (CI runs as root); the loopback discovery test still runs";
    }
}
