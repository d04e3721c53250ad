using EdgeNode.Models.Conversion;

namespace EdgeNode.Pool.Slices;

/// <summary>What a completed fetch did.</summary>
/// <param name="Manifest">The folder's manifest after the fetch (the slices it now holds).</param>
/// <param name="BytesTotal">Bytes of the files fetched.</param>
/// <param name="BytesResumed">Bytes that were already on disk and verified (an earlier, interrupted fetch).</param>
/// <param name="BytesTransferred">Bytes received over the network in this run, refused chunks included.</param>
/// <param name="ChunksRefused">Chunks refused for a wrong hash (each fetched again).</param>
public sealed record SliceFetchResult(ModelManifest Manifest, long BytesTotal, long BytesResumed, long BytesTransferred, int ChunksRefused, TimeSpan Elapsed)
{
    /// <summary>Bytes per second received over the run.</summary>
    public double BytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesTransferred / Elapsed.TotalSeconds : 0;
}
