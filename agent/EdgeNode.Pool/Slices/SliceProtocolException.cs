namespace EdgeNode.Pool.Slices;

/// <summary>A slice server's answer did not follow the protocol; the connection cannot be used again.</summary>
public sealed class SliceProtocolException(string message) : IOException(message);
