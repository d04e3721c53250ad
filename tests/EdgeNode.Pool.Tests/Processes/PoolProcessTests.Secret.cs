using EdgeNode.Pool.Bench;
using EdgeNode.Pool.Tests.Support;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests.Processes;

/// <summary>
/// A pool with a secret: the embedded broker takes only its login, the slice server only peers that prove it. Nodes
/// with the secret (one given it in the environment) serve the goldens, a node without model files fetches its slice
/// through the handshake, and a stranger without the secret is turned away at the broker with a reason.
/// </summary>
public sealed partial class PoolProcessTests
{
    [NetnsFact]
    public void APoolSecretLetsItsNodesInAndTurnsAStrangerAway()
    {
        const string model = "stories260K";
        const string secret = "correct-horse-battery";
        using var served = ServedFolder(model);
        using var lab = NetworkLab.Create(3);
        var pool = Nodes.UniquePool();
        var big = MaxMemory(model, 3, out _);
        var small = MaxMemory(model, 1, out _);
        var nodes = new List<PoolServeNode>();
        try
        {
            var host0 = lab.Hosts[0];
            nodes.Add(PoolServeNode.Start(host0, "node-0", served.Path, "embedded", pool, big, null, new Dictionary<string, string> { ["EDGENODE_POOL_SECRET"] = secret }));
            Assert.True(nodes[0].WaitForLog("listening on", TimeSpan.FromSeconds(30)), nodes[0].Stderr);
            var url = $"mqtt://{host0.Address}:1883";
            nodes.Add(PoolServeNode.Start(lab.Hosts[1], "node-1", served.Path, url, pool, small, ["--pool-secret", secret]));
            nodes.Add(PoolServeNode.Start(lab.Hosts[2], "node-2", null, url, pool, small, ["--pool-secret", secret]));
            WaitForCommonEpoch(nodes, 0);
            Assert.Contains("fetched slice", nodes[2].Stderr, StringComparison.Ordinal);
            // The client proves the secret too: to the broker (its login) and to the entry node (the data plane's handshake).
            CheckGoldens(model, pool, url, null, hops: 3, poolSecret: secret);

            // A client that logs in to the broker but cannot prove the secret to the entry node is turned away there.
            var golden = GoldenCase.Load(model)[0];
            var refused = AgentBinary.Run(["generate", "--pool", pool, "--broker", $"mqtt://{pool}:{secret}@{host0.Address}:1883", "--model", model,
                "--prompt", golden.Prompt, "--max-tokens", "4"], new Dictionary<string, string?> { ["EDGENODE_HOME"] = Path.GetTempPath() }, TimeSpan.FromSeconds(60));
            output.WriteLine($"a client without the secret: {refused.Stderr.Trim()}");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.True(refused.Stderr.Contains("--pool-secret", StringComparison.Ordinal), refused.Stderr);
            Assert.True(nodes[0].WaitForLog("refused a data-plane connection", TimeSpan.FromSeconds(10)), nodes[0].Stderr);

            // A stranger without the secret, and one with another, are refused by the broker and say why.
            foreach (var (id, args) in new[] { ("stranger-0", Array.Empty<string>()), ("stranger-1", new[] { "--pool-secret", "guess" }) })
            {
                using var stranger = PoolServeNode.Start(lab.AddHost(), id, served.Path, url, pool, small, args);
                Assert.True(stranger.WaitForLog("refused this login", TimeSpan.FromSeconds(30)), stranger.Stderr);
                Assert.Contains("--pool-secret", stranger.Stderr, StringComparison.Ordinal);
                output.WriteLine($"{id}: {stranger.Stderr.Split('\n').Last(l => l.StartsWith("edgenode:", StringComparison.Ordinal) || l.Contains("refused this login", StringComparison.Ordinal)).Trim()}");
            }
        }
        finally
        {
            StopAll(nodes);
        }
    }
}
