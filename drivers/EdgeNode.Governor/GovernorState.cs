namespace EdgeNode.Governor;

/// <summary>Where the node stands: all threads, fewer threads, or not taking work.</summary>
public enum GovernorState
{
    Serving,
    Throttled,
    Drained,
}
