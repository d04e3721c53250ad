using System.Globalization;

namespace EdgeNode.Pool.Bench;

/// <summary>A host of a <see cref="NetworkLab"/>: its namespace, its address, and the bridge end of its link.</summary>
public sealed record LabHost(string Namespace, string BridgePort, string Address)
{
    /// <summary>The command line that runs <paramref name="file"/> inside this host's namespace.</summary>
    public (string File, IReadOnlyList<string> Arguments) Wrap(string file, IEnumerable<string> arguments) =>
        ("ip", ["netns", "exec", Namespace, file, .. arguments]);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Namespace} ({Address})");
}
