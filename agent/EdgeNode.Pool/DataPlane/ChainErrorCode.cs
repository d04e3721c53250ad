namespace EdgeNode.Pool.DataPlane;

/// <summary>What went wrong, in an <see cref="FrameType.Error"/> frame. Values are on the wire.</summary>
public enum ChainErrorCode : ushort
{
    Internal = 1,
    BadChecksum = 2,
    UnknownVersion = 3,
    ForeignSession = 4,
    StaleEpoch = 5,
    Malformed = 6,

    /// <summary>The request cannot be served as asked (bad options, prompt longer than the context, id in use).</summary>
    BadRequest = 7,

    /// <summary>A node of the chain could not be reached, closed its connection or fell silent.</summary>
    NodeLost = 8,

    /// <summary>No token came back within the step deadline.</summary>
    StepDeadline = 9,

    /// <summary>The node serves no plan, or the plan changed under the session.</summary>
    NoPlan = 10,

    /// <summary>The node holds as many sessions as it agreed to.</summary>
    Busy = 11,

    /// <summary>A slice failed to run (ONNX Runtime error, full context).</summary>
    RunFailed = 12,
}
