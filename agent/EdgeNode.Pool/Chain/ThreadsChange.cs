namespace EdgeNode.Pool.Chain;

/// <summary>
/// A thread change a <see cref="ChainNode"/> made: its slices went from <paramref name="From"/> to <paramref name="To"/>
/// intra-op threads, re-opened in <paramref name="Rebuild"/> while <paramref name="OpenSessions"/> sessions waited with
/// their caches kept. <paramref name="Reopened"/> is false when there was nothing to re-open (no slices yet, or
/// already at that count): the count then applies to the next slices the node opens.
/// </summary>
public sealed record ThreadsChange(int From, int To, TimeSpan Rebuild, int OpenSessions, bool Reopened);
