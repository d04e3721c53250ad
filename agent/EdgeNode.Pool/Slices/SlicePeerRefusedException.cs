namespace EdgeNode.Pool.Slices;

/// <summary>A slice server answered a request with a refusal (not found, busy, ...); the connection stays usable.</summary>
public sealed class SlicePeerRefusedException(SliceResponseStatus status, string message) : IOException(message)
{
    public SliceResponseStatus Status { get; } = status;
}
