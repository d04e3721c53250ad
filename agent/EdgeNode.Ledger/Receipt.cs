namespace EdgeNode.Ledger;

/// <summary>
/// What one served request did, as the serving node attests it. The ledger credits the node and debits the key from
/// these fields alone, so they are all signed.
/// </summary>
public sealed record Receipt
{
    /// <summary>The receipt format; a verifier refuses versions it does not know.</summary>
    public int V { get; init; } = 1;
    public required string RequestId { get; init; }
    public required string Model { get; init; }

    /// <summary>The hash of the API key served (<see cref="AccountIds.ForKey"/>), never the key.</summary>
    public required string KeyId { get; init; }
    public required string NodeId { get; init; }
    public required int TokensIn { get; init; }
    public required int TokensOut { get; init; }

    /// <summary>Layers of the model this node ran for the request (all of them when it served alone).</summary>
    public required int Layers { get; init; }
    public required string Precision { get; init; }

    /// <summary>How the request was served: local, pool, speculative or async.</summary>
    public required string Mode { get; init; }

    /// <summary>When the request finished, Unix milliseconds (UTC).</summary>
    public required long TimeMs { get; init; }

    public int Tokens => TokensIn + TokensOut;
}
