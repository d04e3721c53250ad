using System.Globalization;
using System.Text.Json;
using EdgeNode.Agent.Bench;
using EdgeNode.Agent.Cli;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool.Bench;
using EdgeNode.Pool.DataPlane;

namespace EdgeNode.Agent.Commands;

/// <summary>
/// `edgenode bench --pool`: a pool of real `edgenode serve --pool` processes against solo on the same weights, in one
/// run: per-hop overhead, bytes per token per hop for each hidden-state encoding, the aggregate rate of concurrent
/// sessions, and the distributed engines measured on this machine as anchors. The work is <see cref="PoolBenchmark"/>'s.
/// </summary>
public static partial class BenchCommand
{
    private const string PoolHelp = """

        usage: edgenode bench --pool --model CHECKPOINT [options]

        Starts --nodes real 'edgenode serve --pool' processes of this binary, joined by a broker (embedded in the first
        node, or --broker), gives each a --max-memory so the leader's plan puts layers on every node, and runs the same
        checkpoint solo in this process with the same threads. Solo and each encoding take turns per round; the fastest
        round counts. Prints the tables and writes JSON.

          --pool             run the pool benchmark instead of the speed bench
          --nodes N          pool nodes, one serve process each (default 4; at most the model's layers)
          --node-memory LIST each node's --max-memory, e.g. 700M,450M,300M (a heterogeneous pool: the leader's
                             ranges follow the budgets; no node may hold the whole model); sets --nodes
          --threads N        threads per node, and for solo (default 1)
          --tokens N         tokens to decode per run (default 128)
          --rounds N         interleaved rounds of solo and every encoding (default 3, after one warm-up)
          --prompt TEXT      the prompt every run decodes from, greedy (default "Once upon a time")
          --encodings LIST   hidden-state encodings, e.g. fp32,fp16,int8,int8+zstd (the default)
          --sessions LIST    sessions at once for the aggregate rate, e.g. 1,2,4,8 (the default); 0 skips
          --net NET          loopback (default): nodes side by side here; veth: each node in its own network
                             namespace, veth to a bridge (root)
          --broker URL       an MQTT broker every node reaches (default: the first node hosts one)
          --binary F         the edgenode binary the nodes run (default: this one)
          --precision P      fp32 | int8 | int4 weights, for the nodes' slices and solo alike (default fp32)
          --label TEXT       label for the table and JSON
          --json-out F       where to write the JSON (default bench-pool-<model>-<nodes>n-<net>.json)

        """;

    private static int RunPool(ArgumentReader args)
    {
        var model = args.Required("model", "CHECKPOINT (a llama2.c .bin or its folder, with its tokenizer)");
        var nodeMemoryText = args.String("node-memory");
        var nodeMemory = nodeMemoryText?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(size => ByteSize.Parse(size, "--node-memory")).ToArray();
        if (nodeMemory is { Length: < 2 })
            throw new UsageException($"--node-memory '{nodeMemoryText}' names {nodeMemory.Length} node(s); a pool needs two or more, e.g. 700M,450M,300M");
        var nodes = args.Int("nodes", nodeMemory?.Length ?? 4, 1, 64);
        if (nodeMemory is not null && nodes != nodeMemory.Length)
            throw new UsageException($"--nodes {nodes} but --node-memory names {nodeMemory.Length} budgets; give one budget per node (or drop --nodes)");
        var threads = args.Int("threads", 1, 1, 1024);
        var tokens = args.Int("tokens", 128, 2, 8192);
        var rounds = args.Int("rounds", 3, 1, 100);
        var prompt = args.String("prompt") ?? "Once upon a time";
        var encodingsText = args.String("encodings") ?? "fp32,fp16,int8,int8+zstd";
        var sessionsText = args.String("sessions") ?? "1,2,4,8";
        var net = args.String("net") ?? "loopback";
        var broker = args.String("broker");
        var binary = args.String("binary");
        var precisionText = args.String("precision") ?? "fp32";
        var label = args.String("label");
        var jsonOut = args.String("json-out");
        args.RejectUnknown();

        var encodings = encodingsText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (encodings.Length == 0)
            throw new UsageException("--encodings is empty; give one or more of fp32, fp16, int8, int8+zstd");
        foreach (var encoding in encodings)
        {
            try
            {
                HiddenEncodingNames.Parse(encoding);
            }
            catch (ArgumentException)
            {
                throw new UsageException($"--encodings: unknown hidden-state encoding '{encoding}'; use fp32, fp16, int8, each optionally with +zstd");
            }
        }
        var sessions = ParseSessions(sessionsText);
        var veth = net switch
        {
            "loopback" => false,
            "veth" => true,
            _ => throw new UsageException($"--net '{net}' is not loopback or veth"),
        };
        if (veth && !NetworkLab.IsRoot)
            throw new UsageException("--net veth needs root: it creates a network namespace per node, veth links and a bridge; run as root, or use --net loopback");
        WeightPrecision precision;
        try
        {
            precision = WeightPrecisionNames.Parse(precisionText);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--precision: {e.Message}");
        }
        binary ??= Environment.ProcessPath ?? throw new UsageException("cannot tell where this edgenode binary is; pass --binary F");
        if (!File.Exists(binary))
            throw new UsageException($"--binary {binary} does not exist");

        var options = new PoolBenchOptions
        {
            Model = model, Binary = binary, Nodes = nodes, Threads = threads, Tokens = tokens, Rounds = rounds, Precision = precision,
            Encodings = encodings, Sessions = sessions, Veth = veth, Broker = broker, Label = label, Prompt = prompt,
            NodeMemory = nodeMemory,
        };
        var report = PoolBenchmark.RunAsync(options, Console.Error).GetAwaiter().GetResult();
        jsonOut ??= $"bench-pool-{Sanitize(report.Model)}-{nodes}n-{net}.json";
        File.WriteAllText(jsonOut, JsonSerializer.Serialize(report, PoolBenchJsonContext.Default.PoolBenchReport));
        Console.Out.Write(report.ToTable());
        Console.Out.WriteLine($"json: {jsonOut}");
        return 0;
    }

    private static int[] ParseSessions(string text)
    {
        if (text.Trim() == "0")
            return [];
        var values = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > 256)
                throw new UsageException($"--sessions: '{part}' is not a number of sessions from 1 to 256 (a list like 1,2,4,8, or 0 to skip)");
            values.Add(n);
        }
        return [.. values];
    }
}
