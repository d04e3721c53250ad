namespace EdgeNode.Agent.Bench;

/// <summary>
/// What other distributed engines reached on this machine for the pool's anchor configuration, to print beside
/// `edgenode bench --pool`: 2 nodes × 1 thread each, the TinyLlama-1.1B shape (dim 2048, 22 layers, vocab 32000),
/// 4-bit weights. Measured on this machine's 2 cores (the box the bench runs on) and recorded here; the bench does not
/// re-run them: distributed-llama (b4rtaz/distributed-llama) decoded 6.7 tok/s and llama.cpp's RPC backend 7.5 tok/s,
/// each as 2 nodes × 1 thread at that shape, 4-bit. The pool's target is at least twice those on the same
/// configuration. Change them only with a new measurement, and say where it came from here.
/// </summary>
internal static class PoolAnchors
{
    public const string Configuration = "2 nodes × 1 thread, TinyLlama-1.1B shape, 4-bit";

    public const string Provenance = "measured on this machine's 2 cores, TinyLlama-1.1B shape, 4-bit, 2 nodes × 1 thread";

    public static readonly PoolAnchor[] All =
    [
        new("distributed-llama", 6.7),
        new("llama.cpp RPC", 7.5),
    ];

    /// <summary>The target: the pool at least this many times the anchors on the same configuration.</summary>
    public const double TargetRatio = 2.0;

    /// <summary>True when a run has the anchors' configuration, so comparing with them means something.</summary>
    public static bool Matches(int nodes, int threads, int dim, int layers, int vocab, string precision) =>
        nodes == 2 && threads == 1 && dim == 2048 && layers == 22 && vocab == 32000 && precision == "int4";
}

internal sealed record PoolAnchor(string Engine, double DecodeTokS);
