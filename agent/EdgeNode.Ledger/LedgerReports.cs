namespace EdgeNode.Ledger;

/// <summary>The ledger's answer to a receipt: accepted with what moved, or refused with the reason.</summary>
/// <param name="Code">accepted, malformed, unknown_node, forged, replayed or invalid.</param>
public sealed record ReceiptVerdict(bool Accepted, string Code, string Reason, Receipt? Receipt = null,
    decimal Earned = 0, decimal Spent = 0, decimal FloorUsed = 0)
{
    public static ReceiptVerdict Refused(string code, string reason, Receipt? receipt = null) => new(false, code, reason, receipt);
}

/// <summary>One account's standing: what GET /v1/credits and `edgenode credits balance` show.</summary>
public sealed record CreditStatement
{
    public required string Account { get; init; }

    /// <summary>"key" or "node".</summary>
    public required string Kind { get; init; }

    /// <summary>The credits this account can spend: a contributor key's is its node's balance.</summary>
    public required decimal Balance { get; init; }
    public required decimal Earned { get; init; }
    public required decimal Spent { get; init; }

    /// <summary>The node a key is linked to (a contributor), or null.</summary>
    public string? LinkedNode { get; init; }
    public required bool Contributor { get; init; }
    public required decimal DailyFloor { get; init; }
    public required decimal FloorLeftToday { get; init; }
    public required List<LedgerEntry> Recent { get; init; }
}

/// <summary>A receipt as an account sees it.</summary>
public sealed record LedgerEntry
{
    public required string RequestId { get; init; }
    public required string Model { get; init; }
    public required string KeyId { get; init; }
    public required string NodeId { get; init; }
    public required int TokensIn { get; init; }
    public required int TokensOut { get; init; }
    public required int Layers { get; init; }
    public required string Precision { get; init; }
    public required string Mode { get; init; }
    public required long TimeMs { get; init; }
    public required decimal Earned { get; init; }
    public required decimal Spent { get; init; }
    public required decimal FloorUsed { get; init; }
}

public sealed record LedgerMember(string NodeId, string PublicKey, long AddedAtMs);

/// <summary>Whether a key may start a request now, and if not why.</summary>
public readonly record struct Admission(bool Allowed, decimal FloorLeft, decimal Balance, bool Contributor);
