namespace EdgeNode.Ledger.Tests;

/// <summary>A clock the test moves, so the floor's day boundary is crossed without waiting for midnight.</summary>
internal sealed class LedgerClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
