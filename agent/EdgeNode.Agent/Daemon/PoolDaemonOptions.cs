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

    /// <summary>
    /// The model the node offers the pool: its served name, or (with no local checkpoint) the one it takes up from its
    /// peers; null takes the first the pool holds (--pool-model).
    /// </summary>
    public string? Model { get; init; }

    /// <summary>The local checkpoint; null: the node holds no model files and fetches the slices it is given from peers.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Download cap of slice fetches in bytes per second (--fetch-rate); null: none.</summary>
    public long? FetchBytesPerSecond { get; init; }

    /// <summary>How long a node without the checkpoint waits for a peer to offer its slice before it refuses the assignment.</summary>
    public TimeSpan FetchSourceWait { get; init; } = DefaultFetchSourceWait;

    /// <summary>Long enough for the provider to build a TinyLlama-sized slice on a small board (pool-slices.md measures 84 s for 6 layers).</summary>
    public static readonly TimeSpan DefaultFetchSourceWait = TimeSpan.FromMinutes(3);

    /// <summary>
    /// The pool's shared secret (--pool-secret): the MQTT password (user name: the pool's name) and the key of the
    /// handshake every slice-server connection must pass. Null: an open pool.
    /// </summary>
    public string? PoolSecret { get; init; }

    /// <summary>The device governor and its sensor readings, when the board has sensors: its drain takes the node out of plans.</summary>
    public Serve.GovernedJobs? Governed { get; init; }

    /// <summary>Where built slices go (EDGENODE_HOME/slices).</summary>
    public required string SlicesHome { get; init; }
}

/// <summary>Turns serve's pool settings into <see cref="PoolDaemonOptions"/>, with the defaults and checks a user meets.</summary>
internal static class PoolSettings
{
    /// <summary>KV caches' budget when --kv-memory is not given.</summary>
    public const long DefaultKvMemoryBytes = 256L << 20;

    public static PoolDaemonOptions Resolve(Cli.ServeSettings settings, InferenceRuntime runtime, IReadOnlyList<Cli.ServedModelFolder.Entry> models, WeightPrecision precision,
        Serve.GovernedJobs? governed)
    {
        var pool = settings.Pool!;
        if (!EdgeNode.Pool.Membership.PoolProtocol.IsValidName(pool))
            throw new Cli.UsageException($"--pool '{pool}' is not a valid pool name: use 1 to 63 letters, digits, '-', '_' or '.'");
        if (settings.DataPort is { } port && port is < 1 or > 65534)
            throw new Cli.UsageException($"--data-port {port} is not a port from 1 to 65534 (the slice server takes the next one)");
        var nodeId = settings.NodeId ?? StableNodeId();
        if (!EdgeNode.Pool.Membership.PoolProtocol.IsValidName(nodeId))
            throw new Cli.UsageException($"--node-id '{nodeId}' is not a valid node id: use 1 to 63 letters, digits, '-', '_' or '.'");
        // One model per node in a pool for now: the data plane serves one chain (docs/pool-operators.md). A node with no
        // model files takes up one the pool holds and fetches its slices from peers.
        var model = models.Count > 0 ? models[0] : null;
        if (settings.PoolModel is { } wanted && !EdgeNode.Pool.Membership.PoolProtocol.IsValidName(wanted))
            throw new Cli.UsageException($"--pool-model '{wanted}' is not a valid model name: use 1 to 63 letters, digits, '-', '_' or '.'");
        if (model is not null && settings.PoolModel is { } named && named != model.Id)
            throw new Cli.UsageException($"--pool-model '{named}' names another model than the one this node serves ('{model.Id}'); --pool-model is for a node without model files");
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
            Model = model?.Id ?? settings.PoolModel,
            CheckpointPath = model?.Path,
            FetchBytesPerSecond = settings.FetchRate is { } rate ? Cli.ByteSize.Parse(rate, "--fetch-rate") : null,
            Governed = governed,
            PoolSecret = settings.PoolSecret is { Length: > 0 } secret ? secret : null,
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
