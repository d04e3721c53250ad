using EdgeNode.Agent.Cli;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>The pool's serve settings come from the file, then EDGENODE_* variables, like the rest of serve's.</summary>
public sealed class ServeSettingsPoolTests
{
    [Fact]
    public void PoolKeysAreReadFromTheFileAndTheEnvironmentWins()
    {
        using var folder = TestPaths.NewTempDirectory("serve-settings");
        var path = folder.File("serve.json");
        File.WriteAllText(path, """
            { "pool": "closet", "broker": "embedded", "data_port": 7480, "node_id": "board-1", "max_memory": "300M", "kv_memory": "64M" }
            """);
        var settings = ServeSettings.Load(path);
        Assert.Equal(("closet", "embedded", 7480, "board-1", "300M", "64M"),
            (settings.Pool, settings.Broker, settings.DataPort, settings.NodeId, settings.MaxMemory, settings.KvMemory));

        var environment = new Dictionary<string, string>
        {
            ["EDGENODE_POOL"] = "garage", ["EDGENODE_BROKER"] = "mqtt://10.0.0.2", ["EDGENODE_DATA_PORT"] = "7490",
            ["EDGENODE_NODE_ID"] = "board-2", ["EDGENODE_MAX_MEMORY"] = "1G", ["EDGENODE_KV_MEMORY"] = "128M",
        };
        settings.ApplyEnvironment(name => environment.GetValueOrDefault(name));
        Assert.Equal(("garage", "mqtt://10.0.0.2", 7490, "board-2", "1G", "128M"),
            (settings.Pool, settings.Broker, settings.DataPort, settings.NodeId, settings.MaxMemory, settings.KvMemory));
    }

    [Fact]
    public void PoolModelFetchRateAndSecretComeFromTheFileThenTheEnvironment()
    {
        using var folder = TestPaths.NewTempDirectory("serve-settings");
        var path = folder.File("serve.json");
        File.WriteAllText(path, """{ "pool": "closet", "pool_model": "stories260K", "fetch_rate": "6M", "pool_secret": "s3cret" }""");
        var settings = ServeSettings.Load(path);
        Assert.Equal(("stories260K", "6M", "s3cret"), (settings.PoolModel, settings.FetchRate, settings.PoolSecret));
        var environment = new Dictionary<string, string> { ["EDGENODE_POOL_MODEL"] = "tinyllama", ["EDGENODE_FETCH_RATE"] = "1G", ["EDGENODE_POOL_SECRET"] = "other" };
        settings.ApplyEnvironment(name => environment.GetValueOrDefault(name));
        Assert.Equal(("tinyllama", "1G", "other"), (settings.PoolModel, settings.FetchRate, settings.PoolSecret));
    }

    [Fact]
    public void AMisspeltPoolKeyIsRefusedNamingTheKeys()
    {
        using var folder = TestPaths.NewTempDirectory("serve-settings");
        var path = folder.File("serve.json");
        File.WriteAllText(path, """{ "max_memroy": "300M" }""");
        var e = Assert.Throws<ArgumentException>(() => ServeSettings.Load(path));
        Assert.Contains("max_memory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadDataPortVariableIsNamed()
    {
        var settings = new ServeSettings();
        var e = Assert.Throws<ArgumentException>(() => settings.ApplyEnvironment(name => name == "EDGENODE_DATA_PORT" ? "seventy" : null));
        Assert.Contains("EDGENODE_DATA_PORT", e.Message, StringComparison.Ordinal);
    }
}
