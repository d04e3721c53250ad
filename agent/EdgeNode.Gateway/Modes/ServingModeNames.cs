namespace EdgeNode.Gateway.Modes;

/// <summary>The modes a request can be served in, as the EdgeNode-Mode header, usage.edgenode_mode and receipts name them.</summary>
public static class ServingModeNames
{
    /// <summary>This node alone runs every layer.</summary>
    public const string Local = "local";

    /// <summary>The LAN pool runs the layers, a slice per node.</summary>
    public const string Pool = "pool";

    /// <summary>A small draft model here, a remote verifier checks its tokens.</summary>
    public const string Speculative = "speculative";

    /// <summary>Stored as a job, run when the node has spare capacity.</summary>
    public const string Async = "async";
}
