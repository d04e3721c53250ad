using System.Globalization;
using System.Text;

namespace EdgeNode.Pool.Bench;

/// <summary>
/// `edgenode bench --pool`'s result: pool against solo on the same weights, measured in one run. Its solo, encoding and
/// concurrency rows are the ones the in-process <see cref="ChainBenchmark"/> reports too.
/// </summary>
public sealed class PoolBenchReport
{
    public string Label { get; set; } = "";
    public string Model { get; set; } = "";
    public string Checkpoint { get; set; } = "";
    public string Precision { get; set; } = "";
    public int Dim { get; set; }
    public int Layers { get; set; }
    public int Vocab { get; set; }
    public int Nodes { get; set; }
    public int ThreadsPerNode { get; set; }

    /// <summary>Cores this machine has (Environment.ProcessorCount): what bounds the concurrent sessions' speed-up.</summary>
    public int Cores { get; set; }

    /// <summary>"loopback" (every node in this network namespace) or "veth" (a namespace per node on a bridge).</summary>
    public string Net { get; set; } = "";

    /// <summary>"embedded on n00" or the URL given with --broker.</summary>
    public string Broker { get; set; } = "";
    public string Prompt { get; set; } = "";
    public int TokensRequested { get; set; }
    public int Rounds { get; set; }
    public string StartedUtc { get; set; } = "";
    public PoolBenchPlan Plan { get; set; } = new();
    public PoolBenchSolo Solo { get; set; } = new();
    public int FrameHeaderBytes { get; set; }

    /// <summary>Hops a token costs on the ring: N - 1 hidden-state hops and the sampled token back to the entry.</summary>
    public int Hops { get; set; }
    public List<PoolBenchEncodingRow> Encodings { get; set; } = [];
    public List<PoolBenchConcurrencyRow> Concurrency { get; set; } = [];
    public PoolBenchAnchors Anchors { get; set; } = new();
    public PoolBenchTargets Targets { get; set; } = new();

    /// <summary>The tables the bench prints.</summary>
    public string ToTable()
    {
        var inv = CultureInfo.InvariantCulture;
        var t = new StringBuilder();
        t.AppendLine(inv, $"{Label}: {Model} {Precision} (dim {Dim}, {Layers} layers, vocab {Vocab}), {Nodes} edgenode serve nodes × {ThreadsPerNode} thread(s), net {Net}, broker {Broker}, {Cores} cores");
        var chain = string.Join(" -> ", Plan.Hops.Select(h => string.Create(inv, $"{h.NodeId} [{h.FirstLayer},{h.EndLayer}){(h.Embed ? " embed" : "")}{(h.Head ? " head" : "")} (--max-memory {h.MaxMemoryBytes / 1048576.0:F0} MiB)")));
        t.AppendLine(inv, $"plan epoch {Plan.Epoch}: {chain}; the whole model needs {Plan.ModelBytes / 1048576.0:F0} MiB");
        t.AppendLine(inv, $"solo (same weights, in this process, {ThreadsPerNode} thread(s)): {Solo.MsPerToken:F3} ms/token, {Solo.TokS:F1} tok/s ({Solo.Tokens} tokens); fastest of {Rounds} interleaved rounds");
        t.AppendLine();
        t.AppendLine("| hidden | pool ms/token | pool tok/s | pool / solo | per-hop overhead ms | bytes/token/hop | payload bytes | greedy = solo |");
        t.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in Encodings)
        {
            var agreement = r.EqualsSolo ? "yes" : string.Create(inv, $"first {r.AgreeingTokens} of {r.Tokens}");
            t.AppendLine(inv, $"| {r.Encoding} | {r.MsPerToken:F3} | {r.TokS:F1} | {r.TokS / Math.Max(Solo.TokS, 1e-9):F2} | {r.PerHopOverheadMs:F3} | {r.BytesPerTokenPerHop:F1} | {r.BytesPerTokenPerHop - FrameHeaderBytes:F1} | {agreement} |");
        }
        t.AppendLine(inv, $"per-hop overhead = (pool - solo) ms/token / {Hops} hops (target <= {Targets.PerHopOverheadMs:F1} ms); bytes/token/hop = one decode step's Hidden frame, the {FrameHeaderBytes}-byte header included (dim {Dim}; int8 target <= 1.1 x dim + header = {Targets.Int8BytesPerTokenPerHop:F0})");
        if (Concurrency.Count > 0)
        {
            t.AppendLine();
            t.AppendLine("| sessions N at once (fp16) | tokens | wall s | aggregate tok/s | speed-up over 1 session | speed-up / N | min(N, nodes, cores/threads) / N |");
            t.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var c in Concurrency)
                t.AppendLine(inv, $"| {c.Sessions} | {c.Tokens} | {c.WallSeconds:F2} | {c.AggregateTokS:F1} | {c.RatioToNSingle * c.Sessions:F2} | {c.RatioToNSingle:F2} | {c.CoreBound:F2} |");
            t.AppendLine(inv, $"target: speed-up >= {Targets.ConcurrencyRatio:F1} x N while cores allow; {Cores} cores for {Nodes} nodes × {ThreadsPerNode} thread(s), so at most min(N, nodes, cores / threads) steps compute at once (waits on the network overlap beyond that); bursts from prompt to last token, fastest of {Rounds}");
        }
        t.AppendLine();
        t.AppendLine(inv, $"anchors ({Anchors.Provenance}):");
        t.AppendLine("| engine | decode tok/s | pool / engine |");
        t.AppendLine("| --- | ---: | ---: |");
        foreach (var a in Anchors.Rows)
            t.AppendLine(inv, $"| {a.Engine} | {a.DecodeTokS:F1} | {(Anchors.Comparable ? (Anchors.PoolTokS / a.DecodeTokS).ToString("F2", inv) + "×" : "—")} |");
        t.AppendLine(Anchors.Comparable
            ? string.Create(inv, $"| EdgeNode pool ({Anchors.PoolEncoding}) | {Anchors.PoolTokS:F1} | target >= {Targets.AnchorRatio:F0}× |")
            : $"(this run is not the anchors' configuration, {Anchors.Configuration}: no ratio)");
        return t.ToString();
    }
}

public sealed class PoolBenchPlan
{
    public long Epoch { get; set; }

    /// <summary>What one node would need to hold the whole model (weights, embedding, head, tokenizer): every hop's budget is below it.</summary>
    public long ModelBytes { get; set; }
    public List<PoolBenchHop> Hops { get; set; } = [];
}

public sealed class PoolBenchHop
{
    public string NodeId { get; set; } = "";
    public int FirstLayer { get; set; }
    public int EndLayer { get; set; }
    public bool Embed { get; set; }
    public bool Head { get; set; }

    /// <summary>The --max-memory the node ran with: its equal share of the layers, or its budget from --node-memory.</summary>
    public long MaxMemoryBytes { get; set; }
    public string Address { get; set; } = "";
}

public sealed class PoolBenchAnchors
{
    public string Configuration { get; set; } = "";
    public string Provenance { get; set; } = "";

    /// <summary>True when this run is the anchors' configuration (then the ratios mean something).</summary>
    public bool Comparable { get; set; }
    public string PoolEncoding { get; set; } = "";
    public double PoolTokS { get; set; }
    public List<PoolBenchAnchorRow> Rows { get; set; } = [];
}

public sealed class PoolBenchAnchorRow
{
    public string Engine { get; set; } = "";
    public double DecodeTokS { get; set; }
    public double? Ratio { get; set; }
}

public sealed class PoolBenchTargets
{
    public double PerHopOverheadMs { get; set; }
    public double Int8BytesPerTokenPerHop { get; set; }
    public double ConcurrencyRatio { get; set; }
    public double AnchorRatio { get; set; }
}
