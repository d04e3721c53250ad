using System.Diagnostics;
using EdgeNode.Inference.Sampling;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Tokenizers;

namespace EdgeNode.Agent.Bench;

/// <summary>Prefill and greedy decode speed of a model in this process, and the tokens it chose.</summary>
/// <param name="TopTwoGaps">Logit gap between the best and second-best token at each step: shows whether a divergence
/// from another engine was a near-tie.</param>
public sealed record DecodeMeasurement(double PrefillTokS, double DecodeTokS, double TtftMs, int[] Tokens, float[] TopTwoGaps)
{
    /// <summary>Prefill the prompt in one run (best of 3 fresh conversations), then decode greedily, ignoring end-of-text.</summary>
    public static DecodeMeasurement Run(LocalModel local, int[] prompt, int decodeTokens)
    {
        var logits = new float[local.Config.VocabSize];
        // Warm-up: first runs allocate ONNX Runtime's arenas and prepacked weights.
        using (var warm = local.CreateState(prompt.Length + 4))
        {
            local.Forward(prompt, warm);
            local.Forward([prompt[^1]], warm);
        }
        var bestPrefill = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            using var s = local.CreateState(prompt.Length);
            var clock = Stopwatch.StartNew();
            local.Forward(prompt, s).CopyTo(logits);
            TokenSampler.ArgMax(logits);
            bestPrefill = Math.Min(bestPrefill, clock.Elapsed.TotalSeconds);
        }

        using var state = local.CreateState(prompt.Length + decodeTokens);
        var tokens = new int[decodeTokens];
        var gaps = new float[decodeTokens];
        var total = Stopwatch.StartNew();
        local.Forward(prompt, state).CopyTo(logits);
        tokens[0] = TokenSampler.ArgMax(logits);
        gaps[0] = TopTwoGap(logits);
        var ttft = total.Elapsed.TotalMilliseconds;
        var decode = Stopwatch.StartNew();
        var step = new int[1];
        for (var i = 1; i < decodeTokens; i++)
        {
            step[0] = tokens[i - 1];
            local.Forward(step, state).CopyTo(logits);
            tokens[i] = TokenSampler.ArgMax(logits);
            gaps[i] = TopTwoGap(logits);
        }
        var decodeSeconds = decode.Elapsed.TotalSeconds;
        return new DecodeMeasurement(prompt.Length / bestPrefill, (decodeTokens - 1) / decodeSeconds, ttft, tokens, gaps);
    }

    /// <summary>The family's start of text, then a fixed English text repeated to the wanted length.</summary>
    public static int[] Prompt(ITextTokenizer tokenizer, int length, int vocab)
    {
        var start = tokenizer.Encode(string.Empty, addSpecialTokens: true);
        var text = tokenizer.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends and her dog. ", addSpecialTokens: false);
        var prompt = new int[length];
        var head = Math.Min(start.Length, length);
        start.AsSpan(0, head).CopyTo(prompt);
        for (var i = head; i < length; i++)
            prompt[i] = text[(i - head) % text.Length] % vocab;
        return prompt;
    }

    private static float TopTwoGap(ReadOnlySpan<float> logits)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (var v in logits)
        {
            if (v > first) { second = first; first = v; }
            else if (v > second) second = v;
        }
        return first - second;
    }
}
