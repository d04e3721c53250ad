using EdgeNode.TestSupport;

namespace EdgeNode.Ledger.Tests;

// The key file's permissions are a Unix matter; the agent runs on Linux boards.
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NodeIdentityTests
{
    [Fact]
    public void TheKeyPairIsMadeOnceWithOwnerOnlyPermissionsAndKeepsTheNodeId()
    {
        using var home = TestPaths.NewTempDirectory("node-key");
        var path = Path.Combine(home.Path, "sub", "node-key.pem");
        string id;
        using (var first = NodeIdentity.LoadOrCreate(path))
            id = first.NodeId;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(path), StringComparison.Ordinal);
        using var again = NodeIdentity.LoadOrCreate(path);
        Assert.Equal(id, again.NodeId);
        Assert.Matches("^node-[0-9a-f]{16}$", id);
    }

    [Fact]
    public void AKeyOthersCanReadIsRefusedWithTheFix()
    {
        using var home = TestPaths.NewTempDirectory("node-key-open");
        var path = Path.Combine(home.Path, "node-key.pem");
        NodeIdentity.LoadOrCreate(path).Dispose();
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var error = Assert.Throws<UnauthorizedAccessException>(() => NodeIdentity.LoadOrCreate(path));
        Assert.Contains("chmod 600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrecisionWeightsFallWithQualityNotWithBytes()
    {
        Assert.Equal(1.0m, PrecisionWeights.Of("fp32"));
        Assert.True(PrecisionWeights.Of("fp16") > PrecisionWeights.Of("int8"));
        Assert.True(PrecisionWeights.Of("int8") > PrecisionWeights.Of("int4"));
        Assert.True(PrecisionWeights.Of("int4") > 1m / 8);      // more than the bytes ratio alone would give
        Assert.Throws<ArgumentException>(() => PrecisionWeights.Of("fp7"));
    }
}
