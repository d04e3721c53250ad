using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Pool.Client;

/// <summary>The pool could not finish a generation: which node, what happened, and (in the message) what to do.</summary>
public sealed class PoolChainException(ChainErrorCode code, string nodeId, string message)
    : Exception(nodeId.Length > 0 && !message.Contains(nodeId, StringComparison.Ordinal) ? $"node {nodeId}: {message}" : message)
{
    public ChainErrorCode Code { get; } = code;

    /// <summary>The node the error is about (or that reported it); "" when none is known.</summary>
    public string NodeId { get; } = nodeId;
}
