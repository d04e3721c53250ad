using EdgeNode.Inference.Sampling;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// Many sessions at once over the shared connections (one client connection, one connection per neighbour) give
/// exactly what each gives alone: the KV caches stay apart and frames of different sessions never mix.
/// </summary>
[Collection(ChainModelsCollection.Name)]
public sealed class ConcurrentSessionTests(ChainModels models)
{
    private static readonly string[] Prompts = ["Once upon a time", "Lily and Tom went to", "The cat sat on the mat", "A little bird", "", "Tom had a red ball"];

    [Fact]
    public async Task SessionsRunTogetherGiveWhatEachGivesAlone()
    {
        await using var chain = await models.StartAsync("stories260K");
        var requests = Enumerable.Range(0, 12).Select(i => new PoolRequest
        {
            Prompt = Prompts[i % Prompts.Length],
            MaxTokens = 60 + 7 * i,
            // Seeded sampling as well as greedy: the sampler of each session must see only its own logits.
            Sampling = i % 3 == 0 ? SamplingOptions.Greedy : new SamplingOptions { Temperature = 0.9f, TopK = 40, TopP = 0.95f, Seed = (ulong)(1000 + i) },
            Encoding = i % 2 == 0 ? HiddenEncoding.Fp32 : HiddenEncoding.Int8,
            Zstd = i % 4 == 1,
            StopTexts = i % 5 == 4 ? ["."] : [],
        }).ToList();

        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        var alone = new List<PoolGenerationResult>();
        foreach (var request in requests)
            alone.Add(await client.GenerateAsync(request));

        // Two clients, so the entry also multiplexes across client connections.
        await using var second = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        var together = await Task.WhenAll(requests.Select((r, i) => (i % 2 == 0 ? client : second).GenerateAsync(r)));

        for (var i = 0; i < requests.Count; i++)
        {
            Assert.Equal(alone[i].Tokens, together[i].Tokens);
            Assert.Equal(alone[i].Text, together[i].Text);
            Assert.Equal(alone[i].StopReason, together[i].StopReason);
        }
        Assert.Contains(together, r => r.Tokens.Length > 20);
        await ChainGoldenTests.WaitUntil(() => chain.Nodes.All(n => n.ActiveSessions == 0));
    }
}
