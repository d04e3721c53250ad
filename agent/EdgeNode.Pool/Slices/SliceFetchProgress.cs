using System.Globalization;

namespace EdgeNode.Pool.Slices;

/// <summary>Where a slice fetch stands: verified bytes of all, what crossed the wire in this run, the rate and what is left.</summary>
/// <param name="BytesDone">Bytes verified on disk (resumed ones included).</param>
/// <param name="BytesTotal">Bytes of every file the fetch wants.</param>
/// <param name="BytesTransferred">Bytes received in this run (refused chunks included).</param>
/// <param name="BytesPerSecond">Receive rate over the last few seconds.</param>
/// <param name="Eta">Time left at that rate; null before there is a rate.</param>
/// <param name="ChunksRefused">Chunks whose hash did not match and were fetched again.</param>
public readonly record struct SliceFetchProgress(
    string Slice, long BytesDone, long BytesTotal, long BytesTransferred, double BytesPerSecond, TimeSpan? Eta,
    int ChunksDone, int ChunksTotal, int ChunksRefused)
{
    public double Fraction => BytesTotal == 0 ? 1 : (double)BytesDone / BytesTotal;

    /// <summary>One line for a terminal: "slice 3:6: 12.0/48.0 MiB (25%), 6.1 MiB/s, ETA 0:06".</summary>
    public override string ToString()
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"slice {Slice}: {BytesDone / 1048576.0:F1}/{BytesTotal / 1048576.0:F1} MiB ({Fraction * 100:F0}%), {BytesPerSecond / 1048576.0:F1} MiB/s");
        if (Eta is { } eta)
            line += string.Create(CultureInfo.InvariantCulture, $", ETA {(int)eta.TotalMinutes}:{eta.Seconds:D2}");
        if (ChunksRefused > 0)
            line += string.Create(CultureInfo.InvariantCulture, $", {ChunksRefused} chunk(s) refused and fetched again");
        return line;
    }
}
