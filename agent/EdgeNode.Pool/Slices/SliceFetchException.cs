namespace EdgeNode.Pool.Slices;

/// <summary>A slice could not be fetched: the message names the slice, file or chunk and what each peer answered.</summary>
public sealed class SliceFetchException(string message, Exception? inner = null) : Exception(message, inner);
