namespace EdgeNode.Ledger;

/// <summary>
/// The ledger's configuration: a fixed exchange rate between what a node earns and what a key spends, not a market,
/// and the free daily floor. Amounts are in credits; the ledger stores micro-credits (integers) so balances add up exactly.
/// </summary>
public sealed record CreditRates
{
    /// <summary>A key spends one credit per token (prompt and completion alike).</summary>
    public const decimal DefaultSpendPerToken = 1m;

    /// <summary>
    /// A node earns 0.05 credits per token per layer it holds at fp32: a node holding 20 fp32 layers earns what a
    /// key spends on a token, so a contributor serving as much as it asks for stays even.
    /// </summary>
    public const decimal DefaultEarnPerTokenLayer = 0.05m;

    /// <summary>
    /// 20 000 credits a day (20 000 tokens at the default rate, a few dozen chats) free per key, so the smallest
    /// contributor — or a key whose node earned nothing yet — keeps access; resets at 00:00 UTC.
    /// </summary>
    public const decimal DefaultDailyFloor = 20_000m;

    public decimal SpendPerToken { get; init; } = DefaultSpendPerToken;
    public decimal EarnPerTokenLayer { get; init; } = DefaultEarnPerTokenLayer;
    public decimal DailyFloor { get; init; } = DefaultDailyFloor;

    public void Validate()
    {
        if (SpendPerToken < 0)
            throw new ArgumentException($"credits spent per token {SpendPerToken} must be >= 0");
        if (EarnPerTokenLayer < 0)
            throw new ArgumentException($"credits earned per token and layer {EarnPerTokenLayer} must be >= 0");
        if (DailyFloor < 0)
            throw new ArgumentException($"the daily free floor {DailyFloor} must be >= 0");
    }

    internal const long MicroPerCredit = 1_000_000;

    internal static long ToMicro(decimal credits) => (long)Math.Round(credits * MicroPerCredit, MidpointRounding.ToEven);

    public static decimal FromMicro(long micro) => (decimal)micro / MicroPerCredit;
}
