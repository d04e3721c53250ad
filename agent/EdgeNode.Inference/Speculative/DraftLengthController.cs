namespace EdgeNode.Inference.Speculative;

/// <summary>
/// Chooses each round's draft length k from what has been measured, or keeps a fixed one.
/// <para>
/// The rule: with per-token acceptance α (each draft kept independently with probability α, as in the standard
/// analysis), a round with k drafts yields E(k) = (1 − α^(k+1)) / (1 − α) tokens on average (the accepted drafts plus
/// the correction or bonus). It takes T(k) = R + V(k) + k·D: the network round trip R, the verifier's pass over k+1
/// positions V(k) = a + b·(k+1), and k draft steps of D each. a and b are fitted (weighted least squares) to the pass
/// times the verifier reports: b is near 0 while a pass is bound by reading the weights (a big model on a fast
/// machine: the case verification is for), and large where the verifier is compute-bound (small models, busy cores).
/// The controller picks the k in 1..max that maximises E(k)/T(k), the expected tokens per second. A long round trip or
/// a cheap drafter pushes k up; low acceptance, a slow drafter or a compute-bound verifier pulls it down.
/// </para>
/// <para>
/// Estimates are exponentially weighted (each round weighs 1 − <see cref="Decay"/>), so they follow a text whose
/// predictability changes. α starts from a prior of 0.6 worth a few positions, so the first rounds are neither timid
/// nor reckless. k never drops to 0: a round with no drafts would teach nothing about α.
/// </para>
/// </summary>
public sealed class DraftLengthController
{
    /// <summary>Weight kept by the old estimates each round.</summary>
    public const double Decay = 0.9;

    private const double PriorAlpha = 0.6;
    private const double PriorPositions = 4;

    private double _acceptedSum = PriorAlpha * PriorPositions;
    private double _examinedSum = PriorPositions;
    private double _roundTrip = double.NaN;
    private double _verify = double.NaN;
    private double _draftPerToken = double.NaN;
    // Decayed sums for the least-squares line of pass time over positions: weight, x, x², y, x·y.
    private double _w, _x, _xx, _y, _xy;

    /// <param name="maxLength">Longest draft (the verifier's limit bounds it too).</param>
    /// <param name="fixedLength">A fixed k instead of the adaptive rule; null adapts.</param>
    public DraftLengthController(int maxLength, int? fixedLength = null, int initialLength = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        if (fixedLength is { } f)
            ArgumentOutOfRangeException.ThrowIfNegative(f);
        MaxLength = maxLength;
        FixedLength = fixedLength is { } fixedK ? Math.Min(fixedK, maxLength) : null;
        Current = FixedLength ?? Math.Clamp(initialLength, 1, maxLength);
    }

    public int MaxLength { get; }
    public int? FixedLength { get; }
    public bool Adaptive => FixedLength is null;

    /// <summary>The draft length for the next round.</summary>
    public int Current { get; private set; }

    /// <summary>The estimated per-token acceptance α.</summary>
    public double Alpha => _acceptedSum / _examinedSum;

    public double RoundTripSeconds => _roundTrip;
    public double VerifySeconds => _verify;
    public double DraftSecondsPerToken => _draftPerToken;

    /// <summary>Records a round and chooses the next k.</summary>
    /// <param name="proposed">Drafts sent.</param>
    /// <param name="accepted">Drafts accepted.</param>
    /// <param name="examined">Draft positions decided (accepted plus the rejected one, if any).</param>
    /// <param name="roundSeconds">Request to answer, as the client saw it.</param>
    /// <param name="verifySeconds">The verifier's own time in the round (its pass), as it reported it.</param>
    /// <param name="draftSeconds">Time spent drafting this round.</param>
    public void Record(int proposed, int accepted, int examined, double roundSeconds, double verifySeconds, double draftSeconds)
    {
        _acceptedSum = Decay * _acceptedSum + accepted;
        _examinedSum = Decay * _examinedSum + examined;
        _roundTrip = Smooth(_roundTrip, Math.Max(0, roundSeconds - verifySeconds));
        _verify = Smooth(_verify, verifySeconds);
        if (proposed > 0)
            _draftPerToken = Smooth(_draftPerToken, draftSeconds / proposed);
        double positions = proposed + 1;
        _w = Decay * _w + 1;
        _x = Decay * _x + positions;
        _xx = Decay * _xx + positions * positions;
        _y = Decay * _y + verifySeconds;
        _xy = Decay * _xy + positions * verifySeconds;
        if (FixedLength is null)
        {
            var (fixedCost, perPosition) = VerifyCost;
            Current = Best(Alpha, _roundTrip, fixedCost, double.IsNaN(_draftPerToken) ? 0 : _draftPerToken, MaxLength, perPosition);
        }
    }

    /// <summary>The fitted pass time a + b·positions: (a, b). Flat (b = 0) until two different draft lengths were seen.</summary>
    public (double Fixed, double PerPosition) VerifyCost
    {
        get
        {
            if (_w <= 0)
                return (0, 0);
            var spread = _w * _xx - _x * _x;
            // Too little spread in the lengths seen to tell a slope: every pass costs the mean.
            if (spread <= 1e-9 * _w * _w)
                return (_y / _w, 0);
            var slope = Math.Max(0, (_w * _xy - _x * _y) / spread);
            var intercept = Math.Max(0, (_y - slope * _x) / _w);
            return (intercept, slope);
        }
    }

    /// <summary>The k in 1..<paramref name="maxLength"/> with the most expected tokens per second.</summary>
    /// <param name="verify">The pass's fixed cost a.</param>
    /// <param name="verifyPerPosition">The pass's cost per position b (0: flat in k).</param>
    public static int Best(double alpha, double roundTrip, double verify, double draftPerToken, int maxLength, double verifyPerPosition = 0)
    {
        var best = 1;
        var bestRate = double.NegativeInfinity;
        for (var k = 1; k <= maxLength; k++)
        {
            var rate = ExpectedTokens(alpha, k) / Math.Max(1e-9, roundTrip + verify + verifyPerPosition * (k + 1) + k * draftPerToken);
            // Ties go to the shorter draft: the same speed for less work on both ends.
            if (rate > bestRate * (1 + 1e-9))
            {
                bestRate = rate;
                best = k;
            }
        }
        return best;
    }

    /// <summary>E(k) = (1 − α^(k+1)) / (1 − α): tokens a round of k drafts yields on average.</summary>
    public static double ExpectedTokens(double alpha, int k) =>
        alpha >= 1 - 1e-9 ? k + 1 : (1 - Math.Pow(alpha, k + 1)) / (1 - alpha);

    private static double Smooth(double old, double sample) => double.IsNaN(old) ? sample : Decay * old + (1 - Decay) * sample;
}
