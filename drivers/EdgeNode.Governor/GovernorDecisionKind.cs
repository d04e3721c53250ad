namespace EdgeNode.Governor;

/// <summary>What subscribers must do: change the intra-op thread count, stop taking work, or take work again.</summary>
public enum GovernorDecisionKind
{
    SetThreads,
    Drain,
    Resume,
}
