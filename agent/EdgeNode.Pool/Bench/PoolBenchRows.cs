namespace EdgeNode.Pool.Bench;

// The rows both pool benches report: `edgenode bench --pool` over real serve processes (PoolBenchReport) and the
// in-process chain on loopback (ChainBenchmarkReport). One shape, so their JSON reads alike.

/// <summary>
/// Solo on the same weights, in the bench's own process: what every pool row is measured against. The in-process chain
/// bench fills the rate and the tokens.
/// </summary>
public sealed class PoolBenchSolo
{
    public double MsPerToken { get; set; }
    public double TokS { get; set; }
    public int Tokens { get; set; }
    public double[] RoundsMsPerToken { get; set; } = [];
    public int[] TokenIds { get; set; } = [];
}

/// <summary>
/// The pool with one hidden-state encoding. The in-process chain bench fills the rate, the per-hop overhead, the bytes
/// and the tokens; the frame count, the per-round times and the token comparison with solo are the process bench's.
/// </summary>
public sealed class PoolBenchEncodingRow
{
    public string Encoding { get; set; } = "";
    public double MsPerToken { get; set; }
    public double TokS { get; set; }
    public double PerHopOverheadMs { get; set; }

    /// <summary>Mean bytes of one decode step's Hidden frame (header included), from the nodes' own counters.</summary>
    public double BytesPerTokenPerHop { get; set; }
    public long DecodeFrames { get; set; }
    public int Tokens { get; set; }
    public double[] RoundsMsPerToken { get; set; } = [];
    public int[] TokenIds { get; set; } = [];

    /// <summary>Tokens equal to solo's before the first difference.</summary>
    public int AgreeingTokens { get; set; }
    public bool EqualsSolo { get; set; }
}

/// <summary>N sessions at once on one chain (fp16 hidden states); the ratios are the process bench's.</summary>
public sealed class PoolBenchConcurrencyRow
{
    public int Sessions { get; set; }
    public int Tokens { get; set; }
    public double WallSeconds { get; set; }
    public double AggregateTokS { get; set; }

    /// <summary>Aggregate rate / (sessions × the one-session rate), as a fraction of N: 1 is perfect scaling.</summary>
    public double RatioToNSingle { get; set; }

    /// <summary>min(sessions, nodes, cores / threads) / sessions: the best fraction of N the cores allow.</summary>
    public double CoreBound { get; set; }
}
