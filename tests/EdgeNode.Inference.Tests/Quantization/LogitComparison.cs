using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.TestSupport;

namespace EdgeNode.Inference.Tests.Quantization;

/// <summary>How far a candidate model's logits stray from a reference's, teacher-forced along the golden sequences.</summary>
public sealed record LogitComparison(long Positions, double Agreement, double MeanError, double MaxError)
{
    public override string ToString() =>
        $"top-1 agreement {Agreement:P1} over {Positions} positions, |Δlogit| mean {MeanError:F5}, max {MaxError:F5}";

    public static LogitComparison Run(LocalModel reference, LocalModel candidate, string goldenModel) =>
        Run(sequence => Logits(reference, sequence), candidate, goldenModel, reference.Config.VocabSize);

    /// <summary>The reference is any function from a token sequence to [positions][vocab] logits.</summary>
    public static LogitComparison Run(Func<int[], float[]> reference, LocalModel candidate, string goldenModel, int vocab)
    {
        long positions = 0, agreeing = 0;
        double errorSum = 0, errorMax = 0;
        foreach (var golden in GoldenCase.Load(goldenModel))
        {
            int[] sequence = [.. golden.PromptTokens, .. golden.Tokens];
            var expected = reference(sequence);
            var actual = Logits(candidate, sequence);
            for (var p = 0; p < sequence.Length; p++)
            {
                var r = expected.AsSpan(p * vocab, vocab);
                var c = actual.AsSpan(p * vocab, vocab);
                if (TokenSampler.ArgMax(r) == TokenSampler.ArgMax(c))
                    agreeing++;
                positions++;
                for (var i = 0; i < vocab; i++)
                {
                    var e = Math.Abs((double)r[i] - c[i]);
                    errorSum += e;
                    errorMax = Math.Max(errorMax, e);
                }
            }
        }
        return new LogitComparison(positions, (double)agreeing / positions, errorSum / (positions * vocab), errorMax);
    }

    private static float[] Logits(LocalModel model, int[] sequence)
    {
        using var state = model.CreateState(sequence.Length);
        return model.Forward(sequence, state, allPositions: true).ToArray();
    }
}
