using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Chain;

internal enum ChainWorkKind
{
    Frame,
    ConnectionClosed,
    Plan,
    Deadlines,
    Threads,
    Stop,
}

/// <summary>One thing for a node's worker to do: a received frame (its payload copied into a pooled array), a closed connection, a new plan, a deadline check, a thread step.</summary>
internal struct ChainWork
{
    public ChainWorkKind Kind;
    public FrameConnection? Connection;
    public FrameHeader Header;
    public byte[]? Payload;
    public int PayloadLength;
    public object? State;

    public readonly ReadOnlySpan<byte> PayloadSpan => Payload is null ? default : Payload.AsSpan(0, PayloadLength);
}
