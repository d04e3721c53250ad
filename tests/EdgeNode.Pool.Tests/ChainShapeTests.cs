using EdgeNode.Pool.Chain;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.Pool.Planning;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// Chains of other shapes over the same sliced folder: one node (entry and last at once), two nodes of unequal size
/// (a node chains several of the folder's slices in memory), and a re-plan that moves layers between nodes under a new
/// epoch while frames of the old one are refused.
/// </summary>
[Collection(ChainModelsCollection.Name)]
public sealed class ChainShapeTests(ChainModels models)
{
    [Theory]
    [InlineData(new[] { 0, 5 })]
    [InlineData(new[] { 0, 4, 5 })]
    [InlineData(new[] { 0, 2, 5 })]
    public async Task AnySplitAlongTheFoldersSlicesGivesTheGoldenTokens(int[] bounds)
    {
        var logger = new RecordingLogger();
        var nodes = Start(bounds.Length - 1, logger);
        try
        {
            var plan = Plan(1, nodes, bounds);
            for (var i = 0; i < nodes.Count; i++)
                await nodes[i].ApplyPlan(plan, plan.Assignments[i].NodeId);
            await AssertGolden(plan, "stories260K");
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task ARePlanMovesLayersUnderANewEpochAndRefusesTheOldOne()
    {
        var logger = new RecordingLogger();
        var nodes = Start(3, logger);
        try
        {
            var first = Plan(1, nodes, [0, 2, 4, 5]);
            for (var i = 0; i < 3; i++)
                await nodes[i].ApplyPlan(first, first.Assignments[i].NodeId);
            await AssertGolden(first, "stories260K");

            // Epoch 2: the same three nodes, the layers split differently.
            var second = Plan(2, nodes, [0, 4, 4, 5], allowEmpty: true);
            for (var i = 0; i < 3; i++)
                await nodes[i].ApplyPlan(second, second.Assignments[i].NodeId);
            Assert.All(nodes, n => Assert.Equal(2, n.Epoch));
            await AssertGolden(second, "stories260K");

            using var rogue = await RawPeer.ConnectAsync(second.Assignments[1].DataEndpoint);
            await rogue.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hello, 0, 1), "node-a"u8));
            await rogue.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x99, 1) { PositionCount = 1 }, new byte[256]));
            var error = await rogue.ReadErrorAsync();
            Assert.Equal(ChainErrorCode.StaleEpoch, error.Code);
            Assert.True(logger.Contains("frame of epoch 1, node node-b serves epoch 2"));
        }
        finally
        {
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    private List<ChainNode> Start(int count, RecordingLogger logger)
    {
        var folder = models.Folder("stories260K");
        var nodes = new List<ChainNode>();
        for (var i = 0; i < count; i++)
        {
            var node = new ChainNode(new ChainNodeOptions { ModelFolder = folder, Runtime = models.Runtime, ListenAddress = System.Net.IPAddress.Loopback, Logger = logger });
            node.Start();
            nodes.Add(node);
        }
        return nodes;
    }

    /// <summary>A plan whose hop i runs layers [bounds[i], bounds[i+1]).</summary>
    private static PoolPlan Plan(long epoch, List<ChainNode> nodes, int[] bounds, bool allowEmpty = false)
    {
        var hops = bounds.Length - 1;
        var assignments = Enumerable.Range(0, hops).Select(i =>
        {
            Assert.True(allowEmpty || bounds[i + 1] > bounds[i]);
            return new SliceAssignment($"node-{(char)('a' + i)}", bounds[i], bounds[i + 1], i == 0, i == hops - 1, $"127.0.0.1:{nodes[i].Port}");
        }).ToList();
        return new PoolPlan("test", "stories260K", epoch, assignments);
    }

    private static async Task AssertGolden(PoolPlan plan, string model)
    {
        await using var client = await PoolClient.ConnectAsync(plan.Assignments[0].DataEndpoint);
        foreach (var golden in GoldenCase.Load(model).Take(2))
        {
            var result = await client.GenerateAsync(ChainGoldenTests.Request(golden, HiddenEncoding.Fp32, zstd: false));
            Assert.Equal(golden.Tokens, result.Tokens);
            Assert.Equal(plan.Epoch, result.Epoch);
            Assert.Equal(plan.Assignments.Select(a => (a.FirstLayer, a.EndLayer)), result.Hops.Select(h => (h.FirstLayer, h.EndLayer)));
        }
    }
}
