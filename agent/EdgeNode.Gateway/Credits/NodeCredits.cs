using EdgeNode.Gateway.Api;
using EdgeNode.Ledger;
using Microsoft.Extensions.Logging;

namespace EdgeNode.Gateway.Credits;

/// <summary>
/// This node's side of the credits: its signing identity, the ledger, and the API keys by account id. Before a
/// request runs, the key must have floor left or credits; after it, the node signs a receipt for what it served and
/// the ledger settles it (the same path a pool member's receipt takes).
/// </summary>
public sealed class NodeCredits : IDisposable
{
    private readonly string[] _keyIds;
    private readonly ILogger _log;

    public NodeCredits(NodeIdentity identity, CreditLedger ledger, IReadOnlyList<string> apiKeys, ILogger log)
    {
        Identity = identity;
        Ledger = ledger;
        _log = log;
        _keyIds = [.. apiKeys.Select(AccountIds.ForKey)];
        // This node is a member of its own ledger, so its receipts are accepted like any member's.
        ledger.AddMember(identity.PublicKey);
    }

    public NodeIdentity Identity { get; }

    public CreditLedger Ledger { get; }

    /// <summary>The account of the configured key at <paramref name="keyIndex"/> (-1: no keys configured, the anonymous account).</summary>
    public string KeyIdOf(int keyIndex) => keyIndex < 0 ? AccountIds.Anonymous : _keyIds[keyIndex];

    /// <summary>Throws 402 when the key has no floor left today and no credits; returns whether it is a contributor (served first).</summary>
    public bool Admit(string keyId)
    {
        var admission = Ledger.Admit(keyId);
        if (!admission.Allowed)
            throw ApiError.InsufficientCredits(Ledger.Rates.DailyFloor, admission.Balance);
        return admission.Contributor;
    }

    /// <summary>Signs and settles a receipt for a served request; returns its header-safe form.</summary>
    public string Settle(string keyId, string requestId, string model, int tokensIn, int tokensOut, int layers, string precision, string mode)
    {
        var signed = Identity.Sign(new Receipt
        {
            RequestId = requestId, Model = model, KeyId = keyId, NodeId = Identity.NodeId, TokensIn = tokensIn, TokensOut = tokensOut,
            Layers = layers, Precision = precision, Mode = mode, TimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        });
        var verdict = Ledger.Accept(signed);
        if (!verdict.Accepted)
            _log.LogWarning("receipt {Request} for {Model} not settled: {Code}: {Reason}", requestId, model, verdict.Code, verdict.Reason);
        return signed;
    }

    public void Dispose()
    {
        Ledger.Dispose();
        Identity.Dispose();
    }
}
