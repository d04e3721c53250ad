using System.Security.Cryptography;
using EdgeNode.TestSupport;

namespace EdgeNode.Ledger.Tests;

/// <summary>
/// A scripted day and a half of a two-node pool, through real signed receipts and a real SQLite ledger: every balance
/// afterwards is the arithmetic of the rates written out in the test.
/// </summary>
public sealed class LedgerScenarioTests : IDisposable
{
    // Small numbers so the arithmetic in the comments can be checked by eye.
    private static readonly CreditRates s_rates = new() { SpendPerToken = 1m, EarnPerTokenLayer = 0.05m, DailyFloor = 100m };

    private readonly TempDirectory _home = TestPaths.NewTempDirectory("ledger-scenario");
    private readonly LedgerClock _clock = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private int _requests;

    public void Dispose() => _home.Dispose();

    private string Sign(NodeIdentity node, string keyId, int tokensIn, int tokensOut, int layers, string precision) =>
        node.Sign(new Receipt
        {
            RequestId = $"req-{++_requests}", Model = "stories260K", KeyId = keyId, NodeId = node.NodeId,
            TokensIn = tokensIn, TokensOut = tokensOut, Layers = layers, Precision = precision, Mode = "local",
            TimeMs = _clock.Now.ToUnixTimeMilliseconds(),
        });

    [Fact]
    public void BalancesAfterAScriptedScenarioMatchTheArithmetic()
    {
        using var a = NodeIdentity.LoadOrCreate(Path.Combine(_home.Path, "a.pem"));
        using var b = NodeIdentity.LoadOrCreate(Path.Combine(_home.Path, "b.pem"));
        var k1 = AccountIds.ForKey("sk-plain");
        var k2 = AccountIds.ForKey("sk-contributor");
        var database = Path.Combine(_home.Path, "ledger.db");
        using (var ledger = new CreditLedger(database, s_rates, _clock))
        {
            ledger.AddMember(a.PublicKey);
            ledger.AddMember(b.PublicKey);
            ledger.Link(k2, b.NodeId);

            // 1. A (5 fp32 layers) serves K1 30+50 tokens: A earns 80×5×1.0×0.05 = 20; K1's 80 come off its floor of 100.
            var r1 = ledger.Accept(Sign(a, k1, 30, 50, 5, "fp32"));
            Assert.True(r1.Accepted, r1.Reason);
            Assert.Equal((20m, 0m, 80m), (r1.Earned, r1.Spent, r1.FloorUsed));
            Assert.True(ledger.Admit(k1).Allowed);

            // 2. A serves K1 40 tokens: A earns 10; 20 from the floor left, 20 from K1's wallet (now -20).
            var r2 = ledger.Accept(Sign(a, k1, 10, 30, 5, "fp32"));
            Assert.Equal((10m, 20m, 20m), (r2.Earned, r2.Spent, r2.FloorUsed));
            var refused = ledger.Admit(k1);
            Assert.False(refused.Allowed);                 // no floor left today and nothing in the wallet
            Assert.Equal((0m, -20m), (refused.FloorLeft, refused.Balance));

            // 3. B serves its own contributor key K2: nothing earned, nothing spent, no floor used.
            var r3 = ledger.Accept(Sign(b, k2, 50, 50, 3, "int4"));
            Assert.True(r3.Accepted, r3.Reason);
            Assert.Equal((0m, 0m, 0m), (r3.Earned, r3.Spent, r3.FloorUsed));

            // 4. A serves K2 200 tokens: A earns 200×5×0.05 = 50; K2's floor covers 100, the other 100 come out of B's account.
            var r4 = ledger.Accept(Sign(a, k2, 120, 80, 5, "fp32"));
            Assert.Equal((50m, 100m, 100m), (r4.Earned, r4.Spent, r4.FloorUsed));

            // 5. B (10 int4 layers) serves K1 100 tokens: B earns 100×10×0.6×0.05 = 30; K1 pays all 100 from its wallet.
            var r5 = ledger.Accept(Sign(b, k1, 60, 40, 10, "int4"));
            Assert.Equal((30m, 100m, 0m), (r5.Earned, r5.Spent, r5.FloorUsed));
        }

        // Reopened: the balances are on disk.
        using (var ledger = new CreditLedger(database, s_rates, _clock))
        {
            var nodeA = ledger.Statement(a.NodeId);
            Assert.Equal((80m, 80m, 0m), (nodeA.Balance, nodeA.Earned, nodeA.Spent));
            var nodeB = ledger.Statement(b.NodeId);
            Assert.Equal((-70m, 30m, 100m), (nodeB.Balance, nodeB.Earned, nodeB.Spent));   // 30 earned − 100 spent by its key
            var plain = ledger.Statement(k1);
            Assert.Equal((-120m, 0m, 120m, 0m), (plain.Balance, plain.Earned, plain.Spent, plain.FloorLeftToday));
            Assert.False(plain.Contributor);
            Assert.Equal(3, plain.Recent.Count);
            Assert.Equal("req-5", plain.Recent[0].RequestId);     // newest first
            var contributor = ledger.Statement(k2);
            Assert.True(contributor.Contributor);
            Assert.Equal(b.NodeId, contributor.LinkedNode);
            Assert.Equal(-70m, contributor.Balance);               // a contributor key's wallet is its node's account
            Assert.Equal(0m, contributor.FloorLeftToday);
            Assert.Equal(5, ledger.ReceiptCount());

            // The next UTC day the floor is back, whatever the wallet says.
            _clock.Now = _clock.Now.AddDays(1).Date;
            var tomorrow = ledger.Admit(k1);
            Assert.True(tomorrow.Allowed);
            Assert.Equal(100m, tomorrow.FloorLeft);
        }
    }

    [Fact]
    public void ForgedReplayedAndStrangersReceiptsAreRefusedAndMoveNothing()
    {
        using var member = NodeIdentity.LoadOrCreate(Path.Combine(_home.Path, "member.pem"));
        using var stranger = NodeIdentity.LoadOrCreate(Path.Combine(_home.Path, "stranger.pem"));
        using var ledger = new CreditLedger(Path.Combine(_home.Path, "ledger.db"), s_rates, _clock);
        ledger.AddMember(member.PublicKey);
        var key = AccountIds.ForKey("sk-someone");

        var genuine = Sign(member, key, 10, 10, 5, "fp32");
        Assert.True(ledger.Accept(genuine).Accepted);
        var after = ledger.Statement(member.NodeId).Balance;
        Assert.Equal(5m, after);                                          // 20×5×0.05

        // Replayed: the same receipt again.
        var replay = ledger.Accept(genuine);
        Assert.Equal("replayed", replay.Code);
        Assert.Contains("already accepted", replay.Reason, StringComparison.Ordinal);

        // Forged: the payload changed (more tokens), the member's signature kept.
        var (receipt, _, signature) = SignedReceipt.Decode(genuine);
        var inflated = SignedReceipt.Encode(SignedReceipt.Payload(receipt with { RequestId = "req-inflated", TokensOut = 10_000 }), signature);
        var forged = ledger.Accept(inflated);
        Assert.Equal("forged", forged.Code);
        Assert.Contains("does not verify", forged.Reason, StringComparison.Ordinal);

        // Forged: a stranger signs a receipt claiming to be the member.
        using (var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            var payload = SignedReceipt.Payload(receipt with { RequestId = "req-impostor" });
            var impostor = SignedReceipt.Encode(payload, ecdsa.SignData(payload, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
            Assert.Equal("forged", ledger.Accept(impostor).Code);
        }

        // A node that is not a pool member, with a valid signature of its own.
        var foreign = ledger.Accept(Sign(stranger, key, 10, 10, 5, "fp32"));
        Assert.Equal("unknown_node", foreign.Code);
        Assert.Contains("not a pool member", foreign.Reason, StringComparison.Ordinal);

        // Malformed text.
        Assert.Equal("malformed", ledger.Accept("not-a-receipt").Code);
        Assert.Equal("malformed", ledger.Accept("a.b.c").Code);
        Assert.Equal("malformed", ledger.Accept("e30.AAAA").Code);     // "{}": no fields

        // Signed, but saying something impossible.
        Assert.Equal("invalid", ledger.Accept(Sign(member, key, -5, 10, 5, "fp32")).Code);
        Assert.Equal("invalid", ledger.Accept(Sign(member, key, 5, 10, 5, "fp7")).Code);

        Assert.Equal(after, ledger.Statement(member.NodeId).Balance);
        Assert.Equal(1, ledger.ReceiptCount());
        Assert.Equal(-0m + 0m, ledger.Statement(key).Balance);           // 20 tokens, all on the floor
    }

    [Fact]
    public void LinkingNeedsAMemberAndMovesNoCredits()
    {
        using var node = NodeIdentity.LoadOrCreate(Path.Combine(_home.Path, "n.pem"));
        using var ledger = new CreditLedger(Path.Combine(_home.Path, "ledger.db"), s_rates, _clock);
        var key = AccountIds.ForKey("sk-x");
        var error = Assert.Throws<ArgumentException>(() => ledger.Link(key, node.NodeId));
        Assert.Contains("not a pool member", error.Message, StringComparison.Ordinal);
        ledger.AddMember(node.PublicKey);
        ledger.Link(key, node.NodeId);
        Assert.Equal(0m, ledger.Statement(key).Balance);
        Assert.Equal(0m, ledger.Statement(node.NodeId).Balance);
    }
}
