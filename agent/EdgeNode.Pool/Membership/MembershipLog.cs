using Microsoft.Extensions.Logging;

namespace EdgeNode.Pool.Membership;

/// <summary>The membership's log events (source-generated: structured, no allocation when the level is off).</summary>
internal static partial class MembershipLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Ignored payload on {Topic}: {Reason}")]
    public static partial void IgnoredPayload(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Connected to broker {Broker} as {ClientId}")]
    public static partial void Connected(ILogger logger, string broker, string clientId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Lost broker {Broker}: {Reason}; reconnecting")]
    public static partial void Disconnected(ILogger logger, string broker, string reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Reconnect to {Broker} failed (attempt {Attempt}), next in {DelayMs} ms: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, string broker, int attempt, long delayMs, string reason);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Node {NodeId} is {Status}")]
    public static partial void NodeStatusChanged(ILogger logger, string nodeId, string status);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Node {NodeId} missed its heartbeats ({SilentMs} ms silent)")]
    public static partial void NodeExpired(ILogger logger, string nodeId, long silentMs);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Plan for {Model} at epoch {Epoch} from leader {Leader}")]
    public static partial void PlanAccepted(ILogger logger, string model, long epoch, string leader);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Publishing on {Topic} failed: {Reason}")]
    public static partial void PublishFailed(ILogger logger, string topic, string reason);
}
