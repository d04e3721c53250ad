namespace EdgeNode.Pool.DataPlane;

/// <summary>Why a frame was refused. Each is logged with its reason and answered with an <see cref="FrameType.Error"/>.</summary>
public enum FrameRejection
{
    None = 0,

    /// <summary>The stream does not start with the magic: not a data-plane peer, or out of step. The connection closes (no way to find the next frame).</summary>
    BadMagic,

    /// <summary>A header length or payload length that cannot be right: the connection closes.</summary>
    BadLength,

    /// <summary>A version this node does not speak: the frame is skipped (its lengths sit where every version keeps them).</summary>
    UnknownVersion,

    /// <summary>The CRC-32C over header and payload does not match: the frame is skipped.</summary>
    BadChecksum,

    /// <summary>The frame belongs to another plan epoch than the one this node serves.</summary>
    StaleEpoch,

    /// <summary>A frame for a session that was not opened through this chain (on this node).</summary>
    ForeignSession,

    /// <summary>A frame type the receiver does not take in its role, or a payload it cannot read.</summary>
    Malformed,
}
