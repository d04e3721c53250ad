using System.Buffers.Binary;
using System.Text.Json;
using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Pool.Client;
using EdgeNode.Pool.DataPlane;
using EdgeNode.TestSupport;
using Xunit.Abstractions;

namespace EdgeNode.Pool.Tests;

/// <summary>
/// Speculative decoding with a pool chain as the verifier: three in-process nodes on loopback TCP run each round's
/// positions in one pass, the last node decides, every node rolls its cache back to the accepted length. The drafting
/// loop is the one the HTTP verifier uses (<see cref="SpeculativeGenerator"/>), so greedy output must be the target's
/// own: the upstream golden tokens, and plain greedy over long runs full of rejections.
/// </summary>
[Collection(ChainModelsCollection.Name)]
public sealed class PoolSpeculativeTests(ChainModels models, ITestOutputHelper output)
{
    public static TheoryData<string, string, string> GoldenCases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var model in (string[])["stories260K", "llama2xs-tok512-280K"])
        {
            data.Add(model, "model", "fp32");
            data.Add(model, "ngram", "fp32");
        }
        // fp16 hidden states kept every golden token of plain pool generation (ChainGoldenTests); so must verification.
        data.Add("stories260K", "model", "fp16");
        data.Add("llama2xs-tok512-280K", "ngram", "fp16");
        return data;
    }

    private static string Other(string model) => model == "stories260K" ? "llama2xs-tok512-280K" : "stories260K";

    private static PoolVerifierOptions Fp32(int maxDraft = DataPlaneLimits.MaxDraftTokens) => new()
    {
        Sampling = SamplingOptions.Greedy, Encoding = HiddenEncoding.Fp32, MaxDraft = maxDraft,
    };

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public async Task GreedySpeculativeThroughThreeNodesMatchesEveryGoldenCase(string model, string drafterName, string hidden)
    {
        await using var chain = await models.StartAsync(model);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        using var draftModel = LocalModel.Load(models.Runtime, models.Folder(Other(model)));
        using var target = LocalModel.Load(models.Runtime, models.Folder(model));
        int proposed = 0, accepted = 0, rounds = 0, tokens = 0;
        foreach (var golden in GoldenCase.Load(model))
        {
            using IDrafter drafter = drafterName == "model" ? new ModelDrafter(draftModel, SamplingOptions.Greedy, 512, "model") : new NGramDrafter();
            using var verifier = client.CreateVerifierSession(Fp32() with { Encoding = HiddenEncodingNames.Parse(hidden).Encoding });
            var result = new SpeculativeGenerator(target.Tokenizer).Generate(golden.PromptTokens,
                new GenerationOptions { MaxTokens = golden.MaxTokens, Sampling = SamplingOptions.Greedy }, drafter, verifier, new DraftLengthController(DataPlaneLimits.MaxDraftTokens));
            Assert.Equal(golden.Tokens, result.Generation.Tokens);
            if (golden.Prompt.All(char.IsAscii))
                Assert.Equal(golden.Text, golden.Prompt + result.Generation.Text);
            Assert.Equal(0, result.Reopens);
            proposed += result.Proposed;
            accepted += result.Accepted;
            rounds += result.Rounds;
            tokens += result.Generation.Tokens.Length;
        }
        output.WriteLine($"{model} drafted by {drafterName}: {tokens} tokens in {rounds} rounds, {accepted}/{proposed} drafts accepted");
        // Drafts were really kept and really rejected, so both the acceptance and the rollback ran.
        Assert.True(rounds < tokens, $"{rounds} rounds for {tokens} tokens: no round carried an accepted draft");
        Assert.InRange(accepted, 1, proposed - 1);
        await ChainGoldenTests.WaitUntil(() => chain.Nodes.All(n => n.ActiveSessions == 0));
    }

    /// <summary>
    /// Sampling: the drafter samples and sends each draft's distribution, the last node applies rejection sampling with
    /// it. With fp32 hidden states the chain computes the very logits the model computes alone, and the last node's
    /// verifier draws from the seed as a single-node verifier does, so the output is the single-node verifier's,
    /// token for token: the draft block's distributions arrive intact and drive the same decisions.
    /// </summary>
    [Fact]
    public async Task SampledSpeculativeThroughTheChainMatchesTheSingleNodeVerifier()
    {
        const string model = "llama2xs-tok512-280K";
        await using var chain = await models.StartAsync(model);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        using var target = LocalModel.Load(models.Runtime, models.Folder(model));
        using var draftModel = LocalModel.Load(models.Runtime, models.Folder(Other(model)));
        var sampling = new SamplingOptions { Temperature = 0.9f, TopK = 40, TopP = 0.95f, Seed = 42 };
        var options = new GenerationOptions { MaxTokens = 150, Sampling = sampling, ContextLength = 256 };
        var prompt = target.Tokenizer.Encode("Once upon a time");
        SpeculativeResult Run(IVerifierSession verifier)
        {
            using var drafter = new ModelDrafter(draftModel, sampling with { Temperature = 1.0f }, 256, "model");
            return new SpeculativeGenerator(new EndlessTokenizer(target.Tokenizer)).Generate(prompt, options, drafter, verifier, new DraftLengthController(8, 4));
        }
        using var local = new LocalVerifierSession(target, sampling, 256, 8);
        var alone = Run(local);
        using var pooled = client.CreateVerifierSession(new PoolVerifierOptions { Sampling = sampling, Encoding = HiddenEncoding.Fp32, ContextLength = 256, MaxDraft = 8 });
        var throughPool = Run(pooled);
        output.WriteLine($"sampled: {throughPool.Generation.Tokens.Length} tokens, {throughPool.Rounds} rounds, accepted {throughPool.Accepted}/{throughPool.Proposed}");
        Assert.Equal(alone.Generation.Tokens, throughPool.Generation.Tokens);
        Assert.Equal((alone.Rounds, alone.Accepted), (throughPool.Rounds, throughPool.Accepted));
        Assert.InRange(throughPool.Accepted, 1, throughPool.Proposed - 1);
    }

    /// <summary>
    /// Over 200 tokens with drafts rejected at every position of the round (an oracle at α 0.5, four drafts a round;
    /// and a real drafter with the adaptive length), the output stays plain greedy's: had any node kept a rejected
    /// position in its cache, or dropped an accepted one, every later token would be computed from the wrong keys.
    /// </summary>
    [Theory]
    [InlineData("oracle")]
    [InlineData("model")]
    public async Task RollbackKeepsEveryNodeInStepOverManyRounds(string drafterName)
    {
        const string model = "stories260K";
        await using var chain = await models.StartAsync(model);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        using var target = LocalModel.Load(models.Runtime, models.Folder(model));
        using var draftModel = LocalModel.Load(models.Runtime, models.Folder(Other(model)));
        // No stop token: the run goes on past the end of a story, so it is long whatever the model writes.
        var options = new GenerationOptions { MaxTokens = 200, Sampling = SamplingOptions.Greedy, ContextLength = 256 };
        var prompt = target.Tokenizer.Encode("Once upon a time");
        var plain = Plain(target, prompt, options.MaxTokens);
        using IDrafter drafter = drafterName == "oracle"
            ? new OracleDrafter([.. prompt, .. plain], 0.5, target.Config.VocabSize, 11)
            : new ModelDrafter(draftModel, SamplingOptions.Greedy, 256, "model");
        using var verifier = client.CreateVerifierSession(Fp32() with { ContextLength = 256 });
        var lengths = drafterName == "oracle" ? new DraftLengthController(DataPlaneLimits.MaxDraftTokens, 4) : new DraftLengthController(DataPlaneLimits.MaxDraftTokens);
        var result = new SpeculativeGenerator(new EndlessTokenizer(target.Tokenizer)).Generate(prompt, options, drafter, verifier, lengths);
        output.WriteLine($"{drafterName}: {result.Generation.Tokens.Length} tokens, {result.Rounds} rounds, accepted {result.Accepted}/{result.Proposed}");
        Assert.Equal(plain, result.Generation.Tokens);
        Assert.True(result.Generation.Tokens.Length >= 100);
        Assert.InRange(result.Accepted, 10, result.Proposed - 10);
        Assert.Equal((int[])[.. prompt, .. plain], verifier.History.ToArray());
    }

    /// <summary>
    /// The entry refuses a round it cannot run — more drafts than the session's limit, a token outside the vocabulary,
    /// a round out of step — with an error that says so, and nothing runs: the session then goes on from where it
    /// was, exactly. A round for a session nobody opened, and opens past the pool's limits, get errors too; the chain
    /// serves on.
    /// </summary>
    [Fact]
    public async Task BadRoundsAreRefusedAndTheChainServesOn()
    {
        const string model = "stories260K";
        await using var chain = await models.StartAsync(model);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        using var target = LocalModel.Load(models.Runtime, models.Folder(model));
        var prompt = target.Tokenizer.Encode("Once upon a time");
        var plain = Plain(target, prompt, 12);
        using var session = client.CreateVerifierSession(Fp32(maxDraft: 4));
        Assert.True(session.Open(prompt) > prompt.Length);
        var draft = new DraftBuffer(8, target.Config.VocabSize);

        draft.Clear();
        for (var i = 0; i < 5; i++)
            draft.Add(plain[i]);
        var tooLong = Assert.Throws<PoolChainException>(() => session.Verify(draft));
        Assert.Equal(ChainErrorCode.BadRequest, tooLong.Code);
        Assert.Contains("at most 4", tooLong.Message);
        Assert.Contains($"limit is {DataPlaneLimits.MaxDraftTokens}", tooLong.Message);

        draft.Clear();
        draft.Add(plain[0]);
        draft.Add(100_000);
        var outside = Assert.Throws<PoolChainException>(() => session.Verify(draft));
        Assert.Contains("draft token 1 is 100000, outside the vocabulary (0..511)", outside.Message);

        // Nothing of the refused rounds ran: a plain step gives the first token, then two right drafts and a wrong one
        // keep two and correct the third.
        draft.Clear();
        var first = session.Verify(draft);
        Assert.Equal((0, plain[0]), (first.Decision.Accepted, first.Decision.Token));
        draft.Clear();
        draft.Add(plain[1]);
        draft.Add(plain[2]);
        draft.Add((plain[3] + 1) % 512);
        var second = session.Verify(draft);
        Assert.Equal((2, plain[3], 3), (second.Decision.Accepted, second.Decision.Token, second.Decision.Examined));
        draft.Clear();
        draft.Add(plain[4]);
        draft.Add(plain[5]);
        draft.Add(plain[6]);
        draft.Add(plain[7]);
        var third = session.Verify(draft);
        Assert.Equal((4, plain[8]), (third.Decision.Accepted, third.Decision.Token));
        Assert.Equal((int[])[.. prompt, .. plain.AsSpan(0, 9).ToArray()], session.History.ToArray());

        // A raw peer: a round for a session that is not open, one out of step, and opens the pool refuses.
        using var raw = await RawPeer.ConnectAsync(chain.EntryEndpoint);
        await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Hello, 0, 0), default));
        var block = Block([1, 2], 1);
        await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Verify, 0xBADC0FFEE, 0) { PositionCount = 2 }, block));
        var (unknownHeader, unknownPayload) = await raw.ReadFrameAsync();
        var unknown = ChainErrorPayload.Read(unknownPayload);
        Assert.Equal((FrameType.Error, ChainErrorCode.ForeignSession), (unknownHeader.Type, unknown.Code));
        Assert.Contains("no verifier session 0000000badc0ffee is open", unknown.Message);

        async Task<ChainErrorPayload> OpenRefused(SessionOpenRequest request)
        {
            await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Open, 77, 0), JsonSerializer.SerializeToUtf8Bytes(request, DataPlaneJsonContext.Default.SessionOpenRequest)));
            var (header, payload) = await raw.ReadFrameAsync();
            Assert.Equal(FrameType.Error, header.Type);
            return ChainErrorPayload.Read(payload);
        }
        var tooMany = await OpenRefused(new SessionOpenRequest { Verifier = true, PromptTokens = prompt, MaxDraft = 33, Temperature = 0 });
        Assert.Contains($"max_draft 33 is outside 1..{DataPlaneLimits.MaxDraftTokens}", tooMany.Message);
        var badHistory = await OpenRefused(new SessionOpenRequest { Verifier = true, PromptTokens = [1, 600], MaxDraft = 4, Temperature = 0 });
        Assert.Contains("history token 1 is 600, outside the vocabulary", badHistory.Message);
        var noHistory = await OpenRefused(new SessionOpenRequest { Verifier = true, MaxDraft = 4, Temperature = 0 });
        Assert.Contains("needs the accepted history", noHistory.Message);
        var otherTokenizer = await OpenRefused(new SessionOpenRequest { Verifier = true, PromptTokens = prompt, MaxDraft = 4, Temperature = 0, Tokenizer = "sha256:0000" });
        Assert.Contains("draft with a model of the same vocabulary", otherTokenizer.Message);

        // The raw peer opens a session and sends a round that starts at the wrong position, then a malformed block.
        await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Open, 78, 0),
            JsonSerializer.SerializeToUtf8Bytes(new SessionOpenRequest { Verifier = true, PromptTokens = prompt, MaxDraft = 4, Temperature = 0 }, DataPlaneJsonContext.Default.SessionOpenRequest)));
        Assert.Equal(FrameType.Open, (await raw.ReadFrameAsync()).Header.Type);
        await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Verify, 78, 0) { FirstPosition = 3, PositionCount = 2 }, Block([1, 2], 1)));
        var (_, stepPayload) = await raw.ReadFrameAsync();
        Assert.Contains("send the history from position 0", ChainErrorPayload.Read(stepPayload).Message);
        var truncated = Block(prompt, 0)[..^2];
        await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Verify, 78, 0) { PositionCount = prompt.Length }, truncated));
        var (_, shortPayload) = await raw.ReadFrameAsync();
        Assert.Equal(ChainErrorCode.BadRequest, ChainErrorPayload.Read(shortPayload).Code);
        // And then its right first round runs.
        await raw.SendAsync(RawPeer.Frame(new FrameHeader(FrameType.Verify, 78, 0) { PositionCount = prompt.Length + 1 }, Block([.. prompt, plain[0]], 1)));
        var (verdictHeader, verdictPayload) = await raw.ReadFrameAsync();
        Assert.Equal(FrameType.Verdict, verdictHeader.Type);
        Assert.Equal(new VerdictPayload(1, plain[1], 1, 0), VerdictPayload.Read(verdictPayload) with { Milliseconds = 0 });
        Assert.Equal(prompt.Length + 1, verdictHeader.FirstPosition);

        // The session the client holds, and plain generation, are unharmed.
        draft.Clear();
        draft.Add(plain[9]);
        var fourth = session.Verify(draft);
        Assert.Equal((1, plain[10]), (fourth.Decision.Accepted, fourth.Decision.Token));
        var plainRun = await client.GenerateAsync(new PoolRequest { Prompt = "Once upon a time", MaxTokens = 12, Sampling = SamplingOptions.Greedy, Encoding = HiddenEncoding.Fp32 });
        Assert.Equal(plain, plainRun.Tokens);
    }

    /// <summary>
    /// A round allocates nothing on the nodes after the entry: the extra managed bytes of a long generation over a
    /// short one, per extra frame, stay under a few bytes (the last node's accepted history grows by doubling).
    /// </summary>
    [Theory]
    [InlineData(1, 8)]
    [InlineData(2, 32)]
    public async Task AVerificationRoundAllocatesNothingOnALaterNode(int node, double bytesPerFrame)
    {
        const string model = "stories260K";
        await using var chain = await models.StartAsync(model);
        await using var client = await PoolClient.ConnectAsync(chain.EntryEndpoint);
        using var target = LocalModel.Load(models.Runtime, models.Folder(model));
        var prompt = target.Tokenizer.Encode("Once upon a time");
        var plain = Plain(target, prompt, 220);
        using var verifier = client.CreateVerifierSession(Fp32() with { ContextLength = 256 });

        (long Bytes, long Frames) Measure(int tokens)
        {
            var (bytes, frames) = (chain.Nodes[node].WorkerAllocatedBytes, chain.Nodes[node].FramesProcessed);
            using var drafter = new OracleDrafter([.. prompt, .. plain], 0.7, target.Config.VocabSize, 5);
            var result = new SpeculativeGenerator(new EndlessTokenizer(target.Tokenizer)).Generate(prompt,
                new GenerationOptions { MaxTokens = tokens, Sampling = SamplingOptions.Greedy, ContextLength = 256 }, drafter, verifier, new DraftLengthController(8, 4));
            Assert.Equal(plain.AsSpan(0, tokens).ToArray(), result.Generation.Tokens);
            return (chain.Nodes[node].WorkerAllocatedBytes - bytes, chain.Nodes[node].FramesProcessed - frames);
        }

        Measure(40);
        // The median of three: a method recompiled at a higher tier allocates a few KB once, in either run.
        var measurements = new List<double>();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var shorter = Measure(30);
            var longer = Measure(200);
            var measured = (double)(longer.Bytes - shorter.Bytes) / (longer.Frames - shorter.Frames);
            output.WriteLine($"node {node}: {measured:F1} bytes per extra frame ({longer.Bytes - shorter.Bytes} B over {longer.Frames - shorter.Frames} frames)");
            measurements.Add(measured);
        }
        measurements.Sort();
        var perFrame = measurements[1];
        Assert.True(perFrame <= bytesPerFrame, $"a verification round allocates {perFrame:F1} bytes on node {node}, more than {bytesPerFrame}");
    }

    /// <summary>Target greedy one token per pass, no stop token: the reference.</summary>
    private static int[] Plain(LocalModel target, int[] prompt, int tokens)
    {
        using var state = target.CreateState(256);
        var logits = target.Forward(prompt, state).ToArray();
        var output = new List<int>();
        var vocab = Math.Min(target.Config.VocabSize, target.Tokenizer.VocabSize);
        for (var i = 0; i < tokens; i++)
        {
            var next = 0;
            for (var v = 1; v < vocab; v++)
            {
                if (logits[v] > logits[next])
                    next = v;
            }
            output.Add(next);
            if (i + 1 < tokens)
                logits = target.Forward([next], state).ToArray();
        }
        return [.. output];
    }

    /// <summary>A draft block as a client writes it: <paramref name="tokens"/>, the last <paramref name="drafts"/> of them drafts.</summary>
    private static byte[] Block(int[] tokens, int drafts)
    {
        var block = new byte[DraftBlock.FixedBytes + 4 * tokens.Length];
        BinaryPrimitives.WriteInt32LittleEndian(block, drafts);
        BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(4), tokens.Length);
        for (var i = 0; i < tokens.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(block.AsSpan(DraftBlock.FixedBytes + 4 * i), tokens[i]);
        return block;
    }
}
