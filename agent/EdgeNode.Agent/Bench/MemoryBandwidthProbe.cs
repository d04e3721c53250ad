using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace EdgeNode.Agent.Bench;

/// <summary>
/// Measures this machine's sustained read bandwidth the way a decode step uses memory: several threads
/// each stream through their share of a buffer far larger than the caches, summing vectors. The best of
/// several passes is reported: a VM's neighbours make single passes swing both ways.
/// </summary>
public static class MemoryBandwidthProbe
{
    /// <summary>Bytes per second read, with <paramref name="threads"/> threads over a buffer of <paramref name="megabytes"/> MB.</summary>
    public static unsafe double Measure(int threads, int megabytes = 512, int passes = 9)
    {
        threads = Math.Max(1, threads);
        var bytes = (nuint)megabytes * 1024 * 1024;
        var buffer = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        try
        {
            var count = (long)(bytes / sizeof(float));
            // Touch every page so the first pass does not measure page faults.
            new Span<float>(buffer, (int)Math.Min(count, int.MaxValue)).Fill(1f);
            var rates = new double[passes];
            var sink = 0f;
            for (var pass = 0; pass < passes; pass++)
            {
                var partial = new float[threads];
                var clock = Stopwatch.StartNew();
                Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    var chunk = count / threads;
                    var start = buffer + t * chunk;
                    partial[t] = Sum(start, chunk);
                });
                var seconds = clock.Elapsed.TotalSeconds;
                sink += partial.Sum();
                rates[pass] = bytes / seconds;
            }
            GC.KeepAlive(sink);
            // The best pass, as STREAM reports it: the bound is what the memory can give, and a pass can only lose
            // time to neighbours, never gain it (a median let decode runs measure above their own bound).
            return rates.Max();
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static unsafe float Sum(float* start, long count)
    {
        var width = Vector<float>.Count;
        Vector<float> a = Vector<float>.Zero, b = Vector<float>.Zero, c = Vector<float>.Zero, d = Vector<float>.Zero;
        long i = 0;
        // Four independent accumulators keep several loads in flight.
        for (; i + 4 * width <= count; i += 4 * width)
        {
            a += *(Vector<float>*)(start + i);
            b += *(Vector<float>*)(start + i + width);
            c += *(Vector<float>*)(start + i + 2 * width);
            d += *(Vector<float>*)(start + i + 3 * width);
        }
        var total = Vector.Sum(a + b + c + d);
        for (; i < count; i++)
            total += start[i];
        return total;
    }
}
