using System.Text;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.TestSupport;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// Bad frames sent straight at a serving chain's nodes are each refused with a logged reason and an Error frame back,
/// and the chain goes on serving: afterwards a generation still equals the golden tokens.
/// </summary>
[Collection(ChainModelsCollection.Name)]
public sealed class RejectionTests(ChainModels models)
{
    private const long Epoch = 7;

    [Fact]
    public async Task BadChecksumUnknownVersionForeignSessionAndStaleEpochAreRefusedWhileTheChainServes()
    {
        await using var chain = await models.StartAsync("stories260K", Epoch);
        var middle = chain.Plan.Assignments[1].DataEndpoint;
        using var rogue = await RawPeer.ConnectAsync(middle);
        await rogue.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hello, 0, Epoch), "node-x"u8));
        var hidden = new byte[HiddenStateCodec.EncodedLength(HiddenEncoding.Fp32, 1, 64)];

        // A flipped payload bit: the CRC-32C no longer matches.
        var corrupt = RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x1111, Epoch) { PositionCount = 1 }, hidden);
        corrupt[^3] ^= 0x10;
        await rogue.SendAsync(corrupt);
        var error = await rogue.ReadErrorAsync();
        Assert.Equal(ChainErrorCode.BadChecksum, error.Code);
        Assert.Equal("node-b", error.NodeId);

        // A version from the future: skipped whole (its lengths sit where every version keeps them).
        var future = RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x2222, Epoch) { PositionCount = 1 }, hidden);
        future[4] = 9;
        await rogue.SendAsync(future);
        error = await rogue.ReadErrorAsync();
        Assert.Equal(ChainErrorCode.UnknownVersion, error.Code);
        Assert.Contains("version 9", error.Message, StringComparison.Ordinal);

        // A well-formed frame for a session nobody opened through this chain.
        await rogue.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x3333, Epoch) { PositionCount = 1 }, hidden));
        error = await rogue.ReadErrorAsync();
        Assert.Equal(ChainErrorCode.ForeignSession, error.Code);
        Assert.Contains("3333", error.Message, StringComparison.Ordinal);

        // A frame of the previous plan.
        await rogue.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x4444, Epoch - 1) { PositionCount = 1 }, hidden));
        error = await rogue.ReadErrorAsync();
        Assert.Equal(ChainErrorCode.StaleEpoch, error.Code);
        Assert.Contains($"epoch {Epoch - 1}", error.Message, StringComparison.Ordinal);

        // A token the entry is not waiting for.
        using var rogueAtEntry = await RawPeer.ConnectAsync(chain.EntryEndpoint);
        await rogueAtEntry.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hello, 0, Epoch), "node-x"u8));
        await rogueAtEntry.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Token, 0x5555, Epoch), BitConverter.GetBytes(42)));
        Assert.Equal(ChainErrorCode.ForeignSession, (await rogueAtEntry.ReadErrorAsync()).Code);

        Assert.True(chain.Logger.Contains("CRC-32C mismatch"), "the bad checksum was not logged");
        Assert.True(chain.Logger.Contains("protocol version 9"), "the unknown version was not logged");
        Assert.True(chain.Logger.Contains("not opened through this chain"), "the foreign session was not logged");
        Assert.True(chain.Logger.Contains($"frame of epoch {Epoch - 1}, node node-b serves epoch {Epoch}"), "the stale epoch was not logged");

        // The rogue's connection still works after all that, and so does the chain.
        await rogue.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x6666, Epoch) { PositionCount = 1 }, hidden));
        Assert.Equal(ChainErrorCode.ForeignSession, (await rogue.ReadErrorAsync()).Code);
        await AssertServesGolden(chain);
    }

    [Fact]
    public async Task GarbageAndATruncatedFrameCloseOnlyTheirOwnConnection()
    {
        await using var chain = await models.StartAsync("stories260K", Epoch);
        using (var garbage = await RawPeer.ConnectAsync(chain.Plan.Assignments[2].DataEndpoint))
        {
            await garbage.ExpectHelloAsync();
            await garbage.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + new string('x', 64)));
        }
        using (var truncated = await RawPeer.ConnectAsync(chain.Plan.Assignments[1].DataEndpoint))
        {
            await truncated.ExpectHelloAsync();
            var frame = RawPeer.Frame(new FrameHeader(FrameType.Hidden, 0x7777, Epoch) { PositionCount = 1 }, new byte[256]);
            await truncated.SendAsync(frame[..100]);
        }
        await ChainGoldenTests.WaitUntil(() => chain.Logger.Contains("bad magic") && chain.Logger.Contains("in the middle of a frame"),
            () => string.Join("\n", chain.Logger.Lines.Select(l => l.Message)));
        await AssertServesGolden(chain);
    }

    [Fact]
    public async Task RequestsTheChainCannotServeAreRefusedWithTheReason()
    {
        await using var chain = await models.StartAsync("stories260K", Epoch);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        var tooLong = await Assert.ThrowsAsync<PoolChainException>(() => client.GenerateAsync(new PoolRequest { Prompt = "Once upon a time", ContextLength = 3 }));
        Assert.Equal(ChainErrorCode.BadRequest, tooLong.Code);
        Assert.Equal("node-a", tooLong.NodeId);
        Assert.Contains("longer than the context of 3", tooLong.Message, StringComparison.Ordinal);
        var tooWide = await Assert.ThrowsAsync<PoolChainException>(() => client.GenerateAsync(new PoolRequest { Prompt = "Hi", ContextLength = 100_000 }));
        Assert.Equal(ChainErrorCode.BadRequest, tooWide.Code);
        Assert.Contains("use --context 512 or less", tooWide.Message, StringComparison.Ordinal);
        await AssertServesGolden(chain);
    }

    private static async Task AssertServesGolden(RunningChain chain)
    {
        var golden = GoldenCase.Load("stories260K")[0];
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        var result = await client.GenerateAsync(ChainGoldenTests.Request(golden, HiddenEncoding.Fp32, zstd: false));
        Assert.Equal(golden.Tokens, result.Tokens);
    }
}
