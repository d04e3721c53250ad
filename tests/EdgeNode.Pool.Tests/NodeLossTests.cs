using System.Diagnostics;
using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Tests;

/// <summary>A node that goes away mid-generation ends every stream within seconds with an error naming it — never a hang.</summary>
[Collection(ChainModelsCollection.Name)]
public sealed class NodeLossTests(ChainModels models)
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task ANodeDisposedMidGenerationEndsTheStreamsWithAnErrorNamingIt(int victim)
    {
        var chain = await models.StartAsync("stories260K");
        try
        {
            await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            // Enough concurrent work that the chain is surely mid-generation when the node goes.
            var generations = Enumerable.Range(0, 12).Select(i => client.GenerateAsync(new PoolRequest
            {
                Prompt = "Once upon a time",
                MaxTokens = 400,
                Sampling = new SamplingOptions { Temperature = 1.0f, Seed = (ulong)i },
                Encoding = HiddenEncoding.Fp32,
            }, _ => started.TrySetResult())).ToList();
            await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var name = chain.Plan.Assignments[victim].NodeId;
            var clock = Stopwatch.StartNew();
            await chain.Nodes[victim].DisposeAsync();
            var failures = 0;
            foreach (var generation in generations)
            {
                try
                {
                    await generation.WaitAsync(TimeSpan.FromSeconds(5));
                }
                catch (PoolChainException e)
                {
                    failures++;
                    Assert.Equal(ChainErrorCode.NodeLost, e.Code);
                    Assert.Contains(name, e.Message, StringComparison.Ordinal);
                }
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the streams took {clock.Elapsed.TotalSeconds:F1} s to end");
            Assert.True(failures > 0, "every generation finished before the node went: nothing was tested");
        }
        finally
        {
            await chain.DisposeAsync();
        }
    }
}
