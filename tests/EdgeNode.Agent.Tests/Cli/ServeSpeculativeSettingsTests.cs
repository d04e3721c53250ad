using EdgeNode.Agent.Cli;
using EdgeNode.TestSupport;

namespace EdgeNode.Agent.Tests.Cli;

/// <summary>The speculative mode's settings come from the file, then the environment (the later wins), like every serve setting.</summary>
public sealed class ServeSpeculativeSettingsTests
{
    [Fact]
    public void VerifierUrlDraftAndKeyComeFromTheFileThenTheEnvironment()
    {
        using var dir = TestPaths.NewTempDirectory("serve-spec-settings");
        var file = Path.Combine(dir.Path, "serve.json");
        File.WriteAllText(file, """{"verifier_url": "http://10.0.0.2:8080", "verifier_key": "sk-file", "draft": "/models/small"}""");
        var settings = ServeSettings.Load(file);
        Assert.Equal("http://10.0.0.2:8080", settings.VerifierUrl);
        Assert.Equal("sk-file", settings.VerifierKey);
        Assert.Equal("/models/small", settings.Draft);

        var environment = new Dictionary<string, string> { ["EDGENODE_VERIFIER_URL"] = "http://10.0.0.3:8080", ["EDGENODE_VERIFIER_KEY"] = "sk-env" };
        settings.ApplyEnvironment(name => environment.GetValueOrDefault(name));
        Assert.Equal("http://10.0.0.3:8080", settings.VerifierUrl);
        Assert.Equal("sk-env", settings.VerifierKey);
        Assert.Equal("/models/small", settings.Draft);
    }
}
