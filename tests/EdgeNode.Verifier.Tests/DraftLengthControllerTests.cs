using EdgeNode.Inference.Speculative;

namespace EdgeNode.Verifier.Tests;

/// <summary>The adaptive draft length follows its rule: longer drafts for longer round trips and higher acceptance, shorter for costly passes.</summary>
public sealed class DraftLengthControllerTests
{
    [Fact]
    public void ExpectedTokensIsTheGeometricSum()
    {
        Assert.Equal(1 + 0.8 + 0.64 + 0.512, DraftLengthController.ExpectedTokens(0.8, 3), 9);
        Assert.Equal(5, DraftLengthController.ExpectedTokens(1, 4), 9);
        Assert.Equal(1, DraftLengthController.ExpectedTokens(0, 7), 9);
    }

    [Fact]
    public void LongerRoundTripsAndHigherAcceptanceDraftMore()
    {
        var lan = DraftLengthController.Best(0.75, 0.001, 0.010, 0.001, 32);
        var wan = DraftLengthController.Best(0.75, 0.100, 0.010, 0.001, 32);
        var wanGood = DraftLengthController.Best(0.95, 0.100, 0.010, 0.001, 32);
        Assert.True(lan < wan, $"LAN k {lan}, WAN k {wan}");
        Assert.True(wan < wanGood, $"α 0.75 k {wan}, α 0.95 k {wanGood}");
        // A pass whose cost grows with every position (a compute-bound verifier) pulls k back down.
        var steep = DraftLengthController.Best(0.75, 0.100, 0.010, 0.001, 32, verifyPerPosition: 0.050);
        Assert.True(steep < wan, $"steep pass k {steep}, flat pass k {wan}");
    }

    [Fact]
    public void TheControllerLearnsAPerPositionCostFromWhatItMeasures()
    {
        var controller = new DraftLengthController(32);
        // Passes cost 20 ms + 30 ms per position, over a 100 ms round trip, half the drafts kept.
        for (var round = 0; round < 60; round++)
        {
            var k = controller.Current;
            var accepted = k / 2;
            var verify = 0.020 + 0.030 * (k + 1);
            controller.Record(k, accepted, Math.Min(k, accepted + 1), 0.100 + verify, verify, 0);
        }
        var (fixedCost, perPosition) = controller.VerifyCost;
        Assert.InRange(perPosition, 0.025, 0.035);
        Assert.InRange(fixedCost, 0.010, 0.030);
        Assert.InRange(controller.Current, 1, 4);
    }
}
