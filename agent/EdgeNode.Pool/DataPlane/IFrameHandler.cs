namespace EdgeNode.Pool.DataPlane;

/// <summary>What a <see cref="FrameConnection"/> tells its owner. Called from the connection's read loop.</summary>
public interface IFrameHandler
{
    /// <summary>
    /// A whole, checked frame (not a ping: pings only keep the connection alive). The payload is a slice of the
    /// receive buffer, valid until this returns; the next frame is not read before the returned task completes, which
    /// is how a slow owner slows its sender.
    /// </summary>
    ValueTask OnFrameAsync(FrameConnection connection, ParsedFrame frame);

    /// <summary>A frame was refused by the parser (unknown version, bad checksum); the connection goes on.</summary>
    void OnRejected(FrameConnection connection, FrameHeader header, FrameRejection rejection);

    /// <summary>The connection is closed, for the reason given; called once.</summary>
    void OnClosed(FrameConnection connection, string reason);
}
