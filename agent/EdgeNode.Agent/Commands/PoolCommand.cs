using System.Globalization;
using EdgeNode.Agent.Cli;
using EdgeNode.Pool.Discovery;
using EdgeNode.Pool.Membership;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode pool status`: a pool's nodes, their health, the plans in force and each node's slice and speed.</summary>
public static class PoolCommand
{
    public const string Help = """
        usage: edgenode pool status [options]

        Connects to the pool's broker as an observer (it publishes nothing), reads the retained node states and
        plans, and prints every node with its status, heartbeat age, memory, slices and measured speed, then each
        model's plan: epoch, leader, the chain in order, the nodes left out and why.

          --pool NAME        the pool (required)
          --broker URL       mqtt://[user:password@]HOST[:PORT] or mqtts://…; without it the broker is found by
                             mDNS (_edgenode._tcp.local, pool=NAME) on the local network
          --json             print one JSON object (the protocol's field names) instead of the tables

        """;

    /// <summary>Retained messages arrive right after the subscription; once the stream pauses this long it is complete.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);

    private static readonly TimeSpan MostWait = TimeSpan.FromSeconds(3);

    public static int Run(string[] rest)
    {
        if (rest.Length == 0 || rest[0] != "status")
            throw new UsageException(rest.Length == 0
                ? "edgenode pool needs a subcommand: status (see 'edgenode pool --help')"
                : $"unknown pool subcommand '{rest[0]}'; the one there is: status");
        var args = new ArgumentReader("pool status", rest[1..]);
        var pool = args.Required("pool", "NAME");
        var brokerText = args.String("broker");
        var json = args.Flag("json");
        args.RejectUnknown();
        if (!PoolProtocol.IsValidName(pool))
            throw new UsageException($"--pool '{pool}' is not a valid pool name: use 1 to 63 letters, digits, '-', '_' or '.'");

        return StatusAsync(pool, brokerText, json).GetAwaiter().GetResult();
    }

    private static async Task<int> StatusAsync(string pool, string? brokerText, bool json)
    {
        var broker = await BrokerLocator.ResolveAsync(pool, brokerText).ConfigureAwait(false);
        await using var membership = new PoolMembership(new MembershipOptions { Pool = pool, Broker = broker }, ownNodeId: null);
        var lastChange = DateTimeOffset.UtcNow;
        membership.ViewChanged += _ => lastChange = DateTimeOffset.UtcNow;
        await membership.StartAsync(null).ConfigureAwait(false);
        lastChange = DateTimeOffset.UtcNow;
        var started = DateTimeOffset.UtcNow;
        while (DateTimeOffset.UtcNow - lastChange < Quiet && DateTimeOffset.UtcNow - started < MostWait)
            await Task.Delay(50).ConfigureAwait(false);

        var report = PoolStatusReport.From(membership.View with { TakenAt = DateTimeOffset.UtcNow }, broker);
        if (json)
        {
            Console.Out.WriteLine(report.ToJson());
            return 0;
        }
        Console.Out.Write(Render(report));
        return 0;
    }

    internal static string Render(PoolStatusReport report)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine($"pool {report.Pool}  broker {report.Broker}  leader {report.Leader ?? "(none: no serving node)"}  epoch {report.Epoch}");
        if (report.Nodes.Count == 0)
        {
            w.WriteLine("no node has published a state in this pool");
        }
        else
        {
            w.WriteLine();
            w.WriteLine($"{"node",-16} {"status",-9} {"health",-14} {"weights max",12} {"kv budget",10} {"thr",5}  {"slices (model [layers) ms/layer)",-40} {"°C",5} {"W",6} {"J/tok",6}  data");
            foreach (var n in report.Nodes)
            {
                var s = n.State;
                var health = n.Alive ? $"ok {Age(n.HeartbeatAgeMs)}" : s.Status is NodeStatus.Offline ? "offline" : $"silent {Age(n.HeartbeatAgeMs)}";
                // A node without a slice still shows the models it offers and its measured speed ("-": no layers now).
                var slices = n.Slices.Count == 0
                    ? s.Models.Count == 0 ? "-" : string.Join(", ", s.Models.Select(m => $"{m.Name} - {(m.MsPerLayer is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) : "?")}"))
                    : string.Join(", ", n.Slices.Select(x =>
                    $"{x.Model} [{x.FirstLayer},{x.EndLayer}){(x.Embed ? "+embed" : "")}{(x.Head ? "+head" : "")} {(x.MsPerLayer is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) : "?")}"));
                w.WriteLine($"{s.NodeId,-16} {n.Status,-9} {health,-14} {Bytes(s.WeightsMaxBytes),12} {Bytes(s.KvBudgetBytes),10} {ThreadsText(s),5}  {slices,-40} "
                            + $"{Num(s.Sensors?.TemperatureC, "0.0"),5} {Num(s.Sensors?.PowerW, "0.00"),6} {Num(s.Sensors?.JoulesPerToken, "0.00"),6}  {s.DataEndpoint}");
                foreach (var r in s.Refusals)
                    w.WriteLine($"{"",16} refused {r.Model} at epoch {r.Epoch}: {r.Reason}");
            }
        }
        foreach (var p in report.Plans)
        {
            w.WriteLine();
            w.WriteLine($"plan {p.Plan.Model}  epoch {p.Plan.Epoch}  leader {p.Leader}  issued {p.IssuedAt:u}");
            if (p.Plan.Assignments.Count == 0)
                w.WriteLine($"  no chain: {p.Unplanned}");
            for (var i = 0; i < p.Plan.Assignments.Count; i++)
            {
                var a = p.Plan.Assignments[i];
                var roles = (a.Embed ? " + embedding, tokenizer, sessions" : "") + (a.Head ? " + head, sampling" : "");
                w.WriteLine($"  {i + 1}. {a.NodeId,-16} layers [{a.FirstLayer},{a.EndLayer}){roles}  {a.DataEndpoint}");
            }
            foreach (var e in p.Excluded)
                w.WriteLine($"  left out: {e.NodeId}: {e.Reason}");
        }
        return w.ToString();
    }

    /// <summary>The threads a node runs with; "2/4" while the governor holds it below its maximum.</summary>
    private static string ThreadsText(NodeState state) =>
        state.MaxThreads is { } max && state.Threads > 0 && state.Threads < max
            ? string.Create(CultureInfo.InvariantCulture, $"{state.Threads}/{max}")
            : state.Threads.ToString(CultureInfo.InvariantCulture);

    private static string Age(long ms) => ms < 10_000 ? $"{ms / 1000.0:0.0} s" : $"{ms / 1000} s";

    private static string Num(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
