using System.Diagnostics;
using EdgeNode.Inference.Sampling;
using Xunit.Abstractions;

namespace EdgeNode.Inference.Tests;

/// <summary>
/// Prints the sampler's cost per token at common vocabulary sizes (Llama 2, Llama 3, Qwen) so a change can
/// be measured: `dotnet test ... --filter TokenSamplerBenchmark --logger "console;verbosity=detailed"`.
/// It asserts nothing about time, which depends on the machine and its load.
/// </summary>
public sealed class TokenSamplerBenchmark(ITestOutputHelper output)
{
    [Fact]
    public void PrintsTheCostPerToken()
    {
        output.WriteLine($"{"vocab",8} {"options",-28} {"ms/token",10}");
        foreach (var vocab in new[] { 32000, 128256, 151936 })
        {
            var logits = SyntheticLogits(vocab, seed: vocab);
            Measure(vocab, "default (T 0.8, k 40, p 0.95)", new SamplingOptions { Seed = 1 }, logits);
            Measure(vocab, "T 0.8, k off, p 0.95", new SamplingOptions { TopK = 0, Seed = 1 }, logits);
            MeasureFullSort(vocab, logits);
        }
    }

    private void Measure(int vocab, string name, SamplingOptions options, float[] logits)
    {
        var sampler = new TokenSampler(options);
        var work = new float[logits.Length];
        var checksum = 0L;
        for (var i = 0; i < 20; i++)
        {
            logits.CopyTo(work, 0);
            checksum += sampler.Sample(work, []);
        }
        var calls = 0;
        var sampling = TimeSpan.Zero;
        var clock = new Stopwatch();
        while (sampling < TimeSpan.FromSeconds(1) || calls < 20)
        {
            // The logits are restored outside the timed part: Sample may change them in place.
            logits.CopyTo(work, 0);
            clock.Restart();
            checksum += sampler.Sample(work, []);
            sampling += clock.Elapsed;
            calls++;
        }
        output.WriteLine($"{vocab,8} {name,-28} {sampling.TotalMilliseconds / calls,10:F4}   ({calls} calls, checksum {checksum})");
        Assert.True(checksum >= 0);
    }

    /// <summary>The same load measured side by side: sorting the whole vocabulary, as the tests' reference does.</summary>
    private void MeasureFullSort(int vocab, float[] logits)
    {
        var options = new SamplingOptions { Seed = 1 };
        var clock = Stopwatch.StartNew();
        var calls = 0;
        var kept = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(1) || calls < 5)
        {
            kept += FullSortReference.Candidates(logits, options).Tokens.Length;
            calls++;
        }
        output.WriteLine($"{vocab,8} {"full sort reference, default",-28} {clock.Elapsed.TotalMilliseconds / calls,10:F4}   ({calls} calls, {kept / calls} kept)");
    }

    /// <summary>Logits shaped like a language model's: most tokens far below a handful of likely ones.</summary>
    internal static float[] SyntheticLogits(int vocab, int seed)
    {
        var random = new Random(seed);
        var logits = new float[vocab];
        for (var i = 0; i < vocab; i++)
        {
            // Box-Muller: a normal spread of width 2.5 around 0.
            var u = 1 - random.NextDouble();
            var v = random.NextDouble();
            logits[i] = (float)(2.5 * Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v));
        }
        for (var i = 0; i < 8; i++)
            logits[random.Next(vocab)] = 12 + 2 * random.NextSingle();
        return logits;
    }
}
