namespace EdgeNode.Models.Hub;

/// <summary>Where one file's download (or mirror copy) stands.</summary>
/// <param name="File">The file's name.</param>
/// <param name="BytesDone">Bytes on disk so far, including any resumed prefix.</param>
/// <param name="TotalBytes">The file's full size, or null when the server did not say.</param>
/// <param name="BytesPerSecond">Transfer rate of this session (resumed bytes excluded).</param>
public sealed record DownloadProgress(string File, long BytesDone, long? TotalBytes, double BytesPerSecond)
{
    public bool IsComplete => TotalBytes is { } total && BytesDone >= total;
}
