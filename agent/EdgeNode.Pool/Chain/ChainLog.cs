using Microsoft.Extensions.Logging;

namespace EdgeNode.Pool.Chain;

/// <summary>The chain node's log lines: source-generated (no boxing, AOT-safe), quiet unless something was refused or lost.</summary>
internal static partial class ChainLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "node {NodeId} listens for the data plane on {Endpoint}")]
    public static partial void Listening(ILogger logger, string nodeId, string endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "node {NodeId} serves epoch {Epoch}: hop {Hop} of {Hops}, layers [{FirstLayer},{EndLayer}){Role} from {Files}")]
    public static partial void PlanApplied(ILogger logger, string nodeId, long epoch, int hop, int hops, int firstLayer, int endLayer, string role, string files);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "node {NodeId} rejected a frame from {Peer}: {Rejection}: {Reason}")]
    public static partial void Rejected(ILogger logger, string nodeId, string peer, string rejection, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "node {NodeId} lost its connection to {Peer}: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string nodeId, string peer, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "node {NodeId} ended session {Session:x16} with an error: {Error}")]
    public static partial void SessionFailed(ILogger logger, string nodeId, ulong session, string error);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "node {NodeId} ended session {Session:x16}: {Reason}, {Tokens} tokens")]
    public static partial void SessionEnded(ILogger logger, string nodeId, ulong session, string reason, int tokens);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "node {NodeId} failed processing a {Type} frame of session {Session:x16}")]
    public static partial void WorkFailed(ILogger logger, Exception exception, string nodeId, string type, ulong session);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "node {NodeId} refused a data-plane connection from {Peer}: {Reason}")]
    public static partial void PeerRefused(ILogger logger, string nodeId, string peer, string reason);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "node {NodeId} runs its slices with {ToThreads} intra-op threads instead of {FromThreads}: re-opened in {RebuildMs} ms, {Sessions} open sessions kept their KV caches; why: {Reason}")]
    public static partial void ThreadsChanged(ILogger logger, string nodeId, int fromThreads, int toThreads, double rebuildMs, int sessions, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "node {NodeId} could not change its slices from {FromThreads} to {ToThreads} intra-op threads ({Reason}): {Error}")]
    public static partial void ThreadsNotChanged(ILogger logger, string nodeId, int fromThreads, int toThreads, string reason, string error);
}
