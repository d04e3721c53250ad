using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// A decode step allocates (next to) nothing on the workers of the nodes after the entry: the extra managed bytes of
/// a long generation over a short one, per extra frame, stay under a few bytes (the last node's token history grows by
/// doubling, which is all that is left; an object per step would be 24 bytes or more). The entry makes the one string
/// per token the tokenizer hands out.
/// </summary>
[Collection(ChainModelsCollection.Name)]
public sealed class StepAllocationTests(ChainModels models, ITestOutputHelper output)
{
    [Theory]
    [InlineData("fp32", 1, 8)]
    [InlineData("int8+zstd", 1, 8)]
    [InlineData("fp32", 2, 32)]
    public async Task ADecodeStepAllocatesNothingOnALaterNode(string encodingName, int node, double bytesPerFrame)
    {
        var (encoding, zstd) = HiddenEncodingNames.Parse(encodingName);
        await using var chain = await models.StartAsync("stories260K");
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        var request = new PoolRequest { Prompt = "Once upon a time", Sampling = SamplingOptions.Greedy, Encoding = encoding, Zstd = zstd };
        await client.GenerateAsync(request with { MaxTokens = 40 });

        async Task<(long Bytes, long Frames)> Measure(int tokens)
        {
            var (bytes, frames) = (chain.Nodes[node].WorkerAllocatedBytes, chain.Nodes[node].FramesProcessed);
            var result = await client.GenerateAsync(request with { MaxTokens = tokens });
            Assert.Equal(tokens, result.Tokens.Length);
            await ChainGoldenTests.WaitUntil(() => chain.Nodes.All(n => n.ActiveSessions == 0));
            return (chain.Nodes[node].WorkerAllocatedBytes - bytes, chain.Nodes[node].FramesProcessed - frames);
        }

        // The runtime sometimes allocates a few KB once (a method recompiled at a higher tier): the least of three
        // measurements is the steady state, and an object per step would show in every one of them.
        var perFrame = double.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var shorter = await Measure(20);
            var longer = await Measure(150);
            var measured = (double)(longer.Bytes - shorter.Bytes) / (longer.Frames - shorter.Frames);
            output.WriteLine($"{encodingName}, node {node}: {measured:F1} bytes per extra frame ({longer.Bytes - shorter.Bytes} B over {longer.Frames - shorter.Frames} frames)");
            perFrame = Math.Min(perFrame, measured);
        }
        Assert.True(perFrame <= bytesPerFrame, $"a decode step allocates {perFrame:F1} bytes on node {node}, more than {bytesPerFrame}");
    }
}
