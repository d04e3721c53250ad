namespace EdgeNode.Pool.Security;

/// <summary>A peer did not prove the pool's secret, or refused ours. An IOException: to a fetch it is one more peer that failed.</summary>
public sealed class PoolAuthenticationException(string message) : IOException(message);
