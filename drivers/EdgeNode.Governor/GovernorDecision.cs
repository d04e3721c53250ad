namespace EdgeNode.Governor;

/// <summary>
/// One decision. Threads is always the count to run with (also on Drain, for work already in
/// flight); Why is a sentence for logs and the dashboard.
/// </summary>
public sealed record GovernorDecision(
    GovernorDecisionKind Kind,
    GovernorState State,
    int Threads,
    DrainReasons Reasons,
    string Why,
    DateTimeOffset At);
