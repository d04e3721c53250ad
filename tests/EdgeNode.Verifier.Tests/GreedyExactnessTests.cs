using EdgeNode.Inference.Generation;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Inference.Speculative;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Verifier.Tests;

/// <summary>
/// Greedy speculative decoding gives exactly the target's greedy output, whatever drafts: both real pairs in both
/// directions, every drafter, fixed and adaptive draft lengths. The reference is the target run alone by
/// <see cref="TextGenerator"/>, one token per pass.
/// </summary>
[Collection(PairModelsCollection.Name)]
public sealed class GreedyExactnessTests(PairModels models)
{
    private const int MaxTokens = 120;
    private static readonly string[] s_prompts = ["Once upon a time", "Lily and Ben went to the park", ""];

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var target in PairModels.Names)
        {
            foreach (var drafter in new[] { "model", "self-int4", "self-layers", "ngram" })
            {
                foreach (var length in new[] { "auto", "1", "4", "9" })
                    data.Add(target, drafter, length);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SpeculativeGreedyEqualsTargetGreedy(string targetName, string drafterName, string length)
    {
        var target = models.Get(targetName);
        var options = new GenerationOptions { MaxTokens = MaxTokens, Sampling = SamplingOptions.Greedy };
        var proposed = 0;
        var accepted = 0;
        foreach (var prompt in s_prompts)
        {
            var tokens = target.Tokenizer.Encode(prompt);
            var reference = new TextGenerator(target).Generate(tokens, options);
            using var drafter = Drafter(drafterName, targetName);
            using var verifier = new LocalVerifierSession(target, SamplingOptions.Greedy, target.Config.MaxSeqLen, 32);
            var lengths = new DraftLengthController(32, length == "auto" ? null : int.Parse(length, System.Globalization.CultureInfo.InvariantCulture));
            var result = new SpeculativeGenerator(target.Tokenizer).Generate(tokens, options, drafter, verifier, lengths);

            Assert.Equal(reference.Tokens, result.Generation.Tokens);
            Assert.Equal(reference.Text, result.Generation.Text);
            Assert.Equal(reference.StopReason, result.Generation.StopReason);
            // Fewer target passes than tokens whenever drafts were accepted: the point of the exercise.
            Assert.Equal(result.Rounds + (tokens.Length > 1 ? 1 : 0), verifier.Passes);
            proposed += result.Proposed;
            accepted += result.Accepted;
        }
        // The drafters really drafted, and some drafts were really kept and some rejected, so both branches ran.
        Assert.True(proposed > 0, $"{drafterName} proposed nothing");
        Assert.InRange(accepted, 1, proposed - (drafterName == "self-int4" ? 0 : 1));
    }

    [Theory]
    [InlineData("stories260K", 0.0)]
    [InlineData("stories260K", 0.5)]
    [InlineData("llama2xs-tok512-280K", 0.9)]
    [InlineData("llama2xs-tok512-280K", 1.0)]
    public void OracleDraftsAcceptAtTheirRateAndKeepTheOutput(string targetName, double alpha)
    {
        var target = models.Get(targetName);
        var options = new GenerationOptions { MaxTokens = MaxTokens, Sampling = SamplingOptions.Greedy };
        var tokens = target.Tokenizer.Encode("Once upon a time");
        var reference = new TextGenerator(target).Generate(tokens, options);
        using var drafter = new OracleDrafter([.. tokens, .. reference.Tokens], alpha, target.Config.VocabSize, 7);
        using var verifier = new LocalVerifierSession(target, SamplingOptions.Greedy, target.Config.MaxSeqLen, 32);
        var result = new SpeculativeGenerator(target.Tokenizer).Generate(tokens, options, drafter, verifier, new DraftLengthController(32, 4));
        Assert.Equal(reference.Tokens, result.Generation.Tokens);
        if (alpha == 1.0)
            Assert.Equal(1.0, result.AcceptRate);
        if (alpha == 0.0)
            Assert.Equal(0, result.Accepted);
    }

    /// <summary>The benchmark's simulated acceptance keeps drafts at its rate (binomial: 4 standard deviations over 1000 positions).</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.7)]
    [InlineData(1.0)]
    public void SimulatedAcceptanceKeepsDraftsAtItsRate(double alpha)
    {
        var target = models.Get("stories260K");
        var tokens = target.Tokenizer.Encode("Once upon a time");
        var examined = 0;
        var accepted = 0;
        var seed = 0UL;
        while (examined < 1000)
        {
            using var drafter = new PlaceholderDrafter(alpha);
            seed++;
            var options = new GenerationOptions { MaxTokens = 200, Sampling = SamplingOptions.Greedy, StopTokens = new HashSet<int>() };
            var session = new SimulatedSession(target, alpha, seed);
            var result = new SpeculativeGenerator(target.Tokenizer).Generate(tokens, options, drafter, session, new DraftLengthController(32, 4));
            examined += session.Examined;
            accepted += result.Accepted;
        }
        var rate = accepted / (double)examined;
        var tolerance = 4 * Math.Sqrt(Math.Max(alpha * (1 - alpha), 1e-9) / examined);
        Assert.InRange(rate, alpha - tolerance, alpha + tolerance);
    }

    /// <summary>A local target whose verifier simulates acceptance α (what `bench --speculative --alphas` opens remotely).</summary>
    private sealed class SimulatedSession(Inference.Sessions.LocalModel model, double alpha, ulong seed) : IVerifierSession
    {
        private Inference.Sessions.ConversationState? _state;
        private DraftVerifier? _verifier;

        public int Examined { get; private set; }

        public int Open(ReadOnlySpan<int> history)
        {
            _state?.Dispose();
            _state = model.CreateState(512);
            _verifier = new DraftVerifier(model.Config.VocabSize, model.Tokenizer.VocabSize, SamplingOptions.Greedy with { Seed = seed }, 32, 512, alpha);
            _verifier.Reset(history);
            _verifier.Prefill(model, _state);
            return 512;
        }

        public VerifyRound Verify(DraftBuffer draft)
        {
            var decision = _verifier!.Verify(model, _state!, draft);
            Examined += decision.Examined;
            return new VerifyRound(decision, 0);
        }

        public void Dispose() => _state?.Dispose();
    }

    private IDrafter Drafter(string name, string targetName) => name switch
    {
        "model" => new ModelDrafter(models.Get(PairModels.Names.Single(n => n != targetName)), SamplingOptions.Greedy, 512, "model"),
        "self-int4" => new ModelDrafter(models.Get(targetName, WeightPrecision.Int4), SamplingOptions.Greedy, 512, "self-int4"),
        "self-layers" => new ModelDrafter(models.FirstHalf(targetName), SamplingOptions.Greedy, 512, "self-layers"),
        "ngram" => new NGramDrafter(),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
