using EdgeNode.Inference.Runtime;
using EdgeNode.Models.Conversion;

namespace EdgeNode.Agent.Daemon;

/// <summary>What `edgenode serve --pool NAME` was told: the pool, how to reach its broker, this node's ports, id and budgets.</summary>
internal sealed record PoolDaemonOptions
{
    /// <summary>The data plane's port when --data-port is not given; the slice server listens on the next one.</summary>
    public const int DefaultDataPort = 7470;

    public required string Pool { get; init; }

    /// <summary>An mqtt:// URL, "embedded", or null to find the pool's broker by mDNS.</summary>
    public string? Broker { get; init; }

    public int DataPort { get; init; } = DefaultDataPort;

    public required string NodeId { get; init; }

    /// <summary>Weight bytes this node agrees to hold (all models, all slices).</summary>
    public required long MaxMemoryBytes { get; init; }

    public required long KvMemoryBytes { get; init; }

    public required InferenceRuntime Runtime { get; init; }

    public WeightPrecision Precision { get; init; } = WeightPrecision.Fp32;

    /// <summary>The model the node offers the pool: its served name and its local checkpoint.</summary>
    public required string Model { get; init; }

    public required string CheckpointPath { get; init; }

    /// <summary>Where built slices go (EDGENODE_HOME/slices).</summary>
    public required string SlicesHome { get; init; }
}

/// <summary>Turns serve's pool settings into <see cref="PoolDaemonOptions"/>, with the defaults and checks a user meets.</summary>
internal static class PoolSettings
{
    /// <summary>KV caches' budget when --kv-memory is not given.</summary>
    public const long DefaultKvMemoryBytes = 256L << 20;

    public static PoolDaemonOptions Resolve(Cli.ServeSettings settings, InferenceRuntime runtime, IReadOnlyList<Cli.ServedModelFolder.Entry> models, WeightPrecision precision)
    {
        var pool = settings.Pool!;
        if (!EdgeNode.Pool.Membership.PoolProtocol.IsValidName(pool))
            throw new Cli.UsageException($"--pool '{pool}' is not a valid pool name: use 1 to 63 letters, digits, '-', '_' or '.'");
        if (settings.DataPort is { } port && port is < 1 or > 65534)
            throw new Cli.UsageException($"--data-port {port} is not a port from 1 to 65534 (the slice server takes the next one)");
        var nodeId = settings.NodeId ?? StableNodeId();
        if (!EdgeNode.Pool.Membership.PoolProtocol.IsValidName(nodeId))
            throw new Cli.UsageException($"--node-id '{nodeId}' is not a valid node id: use 1 to 63 letters, digits, '-', '_' or '.'");
        // One model per node in a pool for now: the data plane serves one chain (docs/pool-operators.md).
        var model = models[0];
        return new PoolDaemonOptions
        {
            Pool = pool,
            Broker = settings.Broker,
            DataPort = settings.DataPort ?? PoolDaemonOptions.DefaultDataPort,
            NodeId = nodeId,
            MaxMemoryBytes = settings.MaxMemory is { } max ? Cli.ByteSize.Parse(max, "--max-memory") : SpareMemory(),
            KvMemoryBytes = settings.KvMemory is { } kv ? Cli.ByteSize.Parse(kv, "--kv-memory") : DefaultKvMemoryBytes,
            Runtime = runtime,
            Precision = precision,
            Model = model.Id,
            CheckpointPath = model.Path,
            SlicesHome = Path.Combine(Cli.AgentPaths.Home, "slices"),
        };
    }

    /// <summary>Half of what the runtime sees as available: the rest is for KV caches, the runtime and the system.</summary>
    private static long SpareMemory() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    /// <summary>A node id kept in EDGENODE_HOME/node-id, made once, so a restarted node is the same node to the pool.</summary>
    private static string StableNodeId()
    {
        var path = Path.Combine(Cli.AgentPaths.Home, "node-id");
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } kept)
            return kept;
        var id = $"node-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4))}";
        Directory.CreateDirectory(Cli.AgentPaths.Home);
        File.WriteAllText(path, id + "\n");
        return id;
    }
}
