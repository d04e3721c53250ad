using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>
/// One `edgenode serve` shared by a collection's tests: stories260K from the shared models (the llama2 chat format,
/// since the checkpoint records none), two API keys, its own EDGENODE_HOME.
/// </summary>
public sealed class ServeFixture : IDisposable
{
    public const string Model = "stories260K";
    public const string Key = "sk-edgenode-test-first";
    public const string SecondKey = "sk-edgenode-test-second";

    private readonly TempDirectory _home = TestPaths.NewTempDirectory("serve-home");

    public ServeFixture()
    {
        Server = ServeProcess.Start(
            // The collection's tests together spend more tokens on one key than its default free floor (20 000 a day);
            // the floor has its own test (FreeFloorTests), so here it is set out of the way.
            ["--listen", "127.0.0.1:0", "--model", TestPaths.Model(Model), "--chat-template", "llama2", "--threads", "1", "--daily-floor", "100000000"],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = _home.Path, ["EDGENODE_API_KEYS"] = $"{Key}, {SecondKey}" });
    }

    public ServeProcess Server { get; }

    public void Dispose()
    {
        Server.Dispose();
        _home.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ServeCollection : ICollectionFixture<ServeFixture>
{
    public const string Name = "edgenode serve";
}
