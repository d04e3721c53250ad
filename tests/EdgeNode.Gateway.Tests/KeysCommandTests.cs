using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using EdgeNode.TestSupport;

namespace EdgeNode.Gateway.Tests;

/// <summary>`edgenode keys create` through the AOT binary: fresh keys each time, and one a served API accepts.</summary>
public sealed partial class KeysCommandTests
{
    [Fact]
    public void CreatedKeysDifferAndAServedApiAcceptsOne()
    {
        using var home = TestPaths.NewTempDirectory("keys-home");
        var env = new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path };
        var first = AgentBinary.Run(["keys", "create", "--name", "laptop"], env, TimeSpan.FromSeconds(30));
        var second = AgentBinary.Run(["keys", "create"], env, TimeSpan.FromSeconds(30));
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(second.ExitCode == 0, second.Stderr);
        // stdout is the key alone; the how-to is on stderr.
        var key = first.Stdout.Trim();
        Assert.Matches(KeyShape(), key);
        Assert.Matches(KeyShape(), second.Stdout.Trim());
        Assert.NotEqual(key, second.Stdout.Trim());
        Assert.Contains($"EDGENODE_API_KEYS={key}", first.Stderr, StringComparison.Ordinal);
        Assert.Contains($"\"api_keys\": [\"{key}\"] // laptop", first.Stderr, StringComparison.Ordinal);

        using var server = ServeProcess.Start(["--listen", "127.0.0.1:0", "--model", TestPaths.Model("stories260K")],
            new Dictionary<string, string?> { ["EDGENODE_HOME"] = home.Path, ["EDGENODE_API_KEYS"] = key });
        using var http = new HttpClient();
        using var accepted = new HttpRequestMessage(HttpMethod.Get, server.ApiBase + "/models");
        accepted.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var ok = http.Send(accepted);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var refused = new HttpRequestMessage(HttpMethod.Get, server.ApiBase + "/models");
        refused.Headers.Authorization = new AuthenticationHeaderValue("Bearer", second.Stdout.Trim());
        using var wrong = http.Send(refused);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public void ABadNameOrSubcommandIsOneClearLine()
    {
        var badName = AgentBinary.Run(["keys", "create", "--name", "my key"]);
        Assert.Equal(2, badName.ExitCode);
        Assert.Contains("--name 'my key'", Assert.Single(badName.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        var unknown = AgentBinary.Run(["keys", "rotate"]);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("'rotate'", Assert.Single(unknown.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [GeneratedRegex("^sk-edgenode-[A-Za-z0-9_-]{32}$")]
    private static partial Regex KeyShape();
}
