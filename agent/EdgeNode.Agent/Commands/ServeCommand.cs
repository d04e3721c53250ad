using EdgeNode.Agent.Cli;
using EdgeNode.Agent.Daemon;
using EdgeNode.Agent.Serve;
using EdgeNode.Gateway;
using EdgeNode.Gateway.FairUse;
using EdgeNode.Gateway.Modes;
using EdgeNode.Inference.Runtime;
using EdgeNode.Inference.Sessions;
using EdgeNode.Models.Chat;
using EdgeNode.Models.Conversion;
using EdgeNode.Pool;
using EdgeNode.Pool.Membership;
using EdgeNode.Pool.Security;
using EdgeNode.Verifier;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode serve`: the node daemon, serving local models over the OpenAI-compatible HTTP API.</summary>
public static partial class ServeCommand
{
    public const string Help = """
        usage: edgenode serve (--models DIR | --model PATH ... | --pool NAME) [options]

          --listen ADDR      address and port, e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080; port 0 picks a free one (default 127.0.0.1:8080)
          --models DIR       serve every model in DIR, each under its folder or file name without the extension
          --model PATH       serve one model (converted folder, checkpoint, .gguf or pulled name); repeatable
          --threads N        intra-op threads per run (default: all cores; the device governor runs fewer on a hot board)
          --config FILE      JSON settings (keys: listen, models_dir, models, threads, api_keys, max_body_bytes,
                             max_queue, chat_template, precision, log_level, jobs_db, job_retention_hours,
                             key_rpm, key_burst, ip_rpm, ip_burst, ledger_db, node_key, credits_per_token,
                             credits_per_token_layer, daily_floor, memory_budget_bytes,
                             pool, broker, data_port, node_id, max_memory, kv_memory, pool_model, fetch_rate, pool_secret, verifier_url, verifier_key, draft)
          --max-body BYTES   largest request body; larger ones get 413 (default 1048576, 1 MiB)
          --max-queue N      requests that may wait for a busy model; more get 429 (default 64)
          --key-rpm N        requests a minute each API key may make; more get 429 with Retry-After (default 600; 0: no limit)
          --key-burst N      requests an API key may send at once before its rate applies (default 60)
          --ip-rpm N         requests a minute each client address (IPv6: each /64) may make (default 1200; 0: no limit)
          --ip-burst N       requests a client address may send at once (default 120)
          --chat-template T  chat format for models that record none (llama2, mistral, llama3, chatml, qwen3, gemma, zephyr)
          --precision P      fp32 | int8 | int4 when a checkpoint is converted (default fp32)
          --jobs-db FILE     the async jobs' SQLite database (default $EDGENODE_HOME/jobs.db)
          --log-level L      info (start, model loads, stop, failures) | debug (also one line per request) (default info)
          --ep LIST          execution providers in order, e.g. xnnpack,cpu (default cpu)
          --ort-library F    path of libonnxruntime.so
          --verifier-idle S  speculative verifier: close a session after S seconds without a request (default 120)
        """ + CreditsHelp + SpeculativeHelp + """

        In a LAN pool (docs/pool-operators.md; the first model is the one offered to the pool):
          --pool NAME        join pool NAME: hold the layers its plan gives this node and serve them on the data port
          --broker URL       mqtt://[user:password@]HOST[:PORT], mqtts://…, or embedded (host the broker here);
                             without it the pool's broker is found by mDNS
          --data-port N      the data plane's TCP port; the slice server takes N+1 (default 7470)
          --node-id ID       this node's id in the pool (default: one made once and kept in $EDGENODE_HOME/node-id)
          --max-memory SIZE  model weights this node agrees to hold, e.g. 300M, 2G (default: half the available memory)
          --kv-memory SIZE   the KV caches' budget (default 256M)
          --pool-model NAME  with no --model: the pool's model to hold (default: the first, by name, a peer holds);
                             this node fetches the slices it is given from peers into $EDGENODE_HOME/slices
          --fetch-rate SIZE  cap on slice downloads, bytes a second, e.g. 6M (default: none)
          --pool-secret S    the pool's shared secret: MQTT password (user: the pool name) and the key peers must prove
                             to the slice server (prefer EDGENODE_POOL_SECRET or the file: flags show in ps)

        Settings come from --config, then the environment (EDGENODE_LISTEN, EDGENODE_MODELS_DIR, EDGENODE_THREADS,
        EDGENODE_API_KEYS comma-separated, EDGENODE_MAX_BODY_BYTES, EDGENODE_CHAT_TEMPLATE, EDGENODE_LOG_LEVEL,
        EDGENODE_JOBS_DB, EDGENODE_LEDGER_DB, EDGENODE_POOL, EDGENODE_BROKER, EDGENODE_DATA_PORT, EDGENODE_NODE_ID,
        EDGENODE_MAX_MEMORY, EDGENODE_KV_MEMORY, EDGENODE_POOL_MODEL, EDGENODE_FETCH_RATE, EDGENODE_POOL_SECRET,
        EDGENODE_VERIFIER_URL, EDGENODE_VERIFIER_KEY, EDGENODE_DRAFT), then
        the options above. With no API key the API listens on a loopback address only. Logs are JSON lines on stderr.
        SIGTERM or Ctrl+C stops it. Under systemd (Type=notify) it reports READY and STOPPING and keeps WatchdogSec=
        fed. The API is described in docs/api.md.
        """;

    public static int Run(ArgumentReader args)
    {
        var settings = args.String("config") is { } configPath ? ServeSettings.Load(configPath) : new ServeSettings();
        settings.ApplyEnvironment(Environment.GetEnvironmentVariable);
        settings.Listen = args.String("listen") ?? settings.Listen;
        settings.ModelsDir = args.String("models") ?? settings.ModelsDir;
        if (args.Strings("model") is { Count: > 0 } models)
            settings.Models = [.. models];
        var threadsGiven = args.String("threads") is not null;
        settings.MaxBodyBytes = args.String("max-body") is not null ? args.Int("max-body", 0, 1024) : settings.MaxBodyBytes;
        settings.MaxQueue = args.String("max-queue") is not null ? args.Int("max-queue", 0, 0, 100_000) : settings.MaxQueue;
        settings.KeyRpm = args.String("key-rpm") is not null ? args.Int("key-rpm", 0, 0, 1_000_000) : settings.KeyRpm;
        settings.KeyBurst = args.String("key-burst") is not null ? args.Int("key-burst", 0, 1, 1_000_000) : settings.KeyBurst;
        settings.IpRpm = args.String("ip-rpm") is not null ? args.Int("ip-rpm", 0, 0, 1_000_000) : settings.IpRpm;
        settings.IpBurst = args.String("ip-burst") is not null ? args.Int("ip-burst", 0, 1, 1_000_000) : settings.IpBurst;
        settings.ChatTemplate = args.String("chat-template") ?? settings.ChatTemplate;
        settings.Precision = args.String("precision") ?? settings.Precision;
        settings.LogLevel = args.String("log-level") ?? settings.LogLevel;
        settings.JobsDb = args.String("jobs-db") ?? settings.JobsDb;
        var verifier = VerifierOptionsFrom(args);
        ReadCreditsArguments(args, settings);
        ReadPoolArguments(args, settings);
        ReadSpeculativeArguments(args, settings);
        var inference = InferenceArguments.Read(args);
        args.RejectUnknown();
        if (!threadsGiven && settings.Threads is { } threads)
            inference = inference with { Threads = threads };

        var options = WithCredits(GatewayOptionsFrom(settings), settings);
        // In a pool, what a node agrees to hold bounds what it loads alone too: a model past it is the pool's to serve.
        if (settings.Pool is not null && options.MemoryBudgetBytes is null && settings.MaxMemory is { } maxMemory)
            options = options with { MemoryBudgetBytes = ByteSize.Parse(maxMemory, "--max-memory") };
        var precision = settings.Precision is null ? (WeightPrecision?)null : ParsePrecision(settings.Precision);
        var entries = ModelEntries(settings, allowNone: settings.Pool is not null);
        options.Validate();

        // The runtime first: a missing ONNX Runtime or a bad --ep fails at start, not on the first request.
        var runtime = new InferenceRuntime(inference);
        foreach (var fallback in runtime.ProviderFallbacks)
            Console.Error.WriteLine($"edgenode: execution provider not used, falling back: {fallback}");
        var conversion = new ConversionOptions { Precision = precision ?? WeightPrecision.Fp32 };
        var served = entries.Select(entry => new ServedModel(entry.Id, entry.Path, threads =>
            LocalModel.Load(runtime, ModelResolver.Resolve(entry.Path, null, precision, conversion, TextWriter.Null), threads: threads)) { WeightBytes = WeightBytesOnDisk(entry.Path) }).ToList();

        // The speculative verifier shares the API's listener, keys and limits (docs/speculative.md).
        List<EdgeNode.Gateway.IServeModule> modules = [new SystemdModule(), new VerifierModule(verifier)];
        // EDGENODE_SYSFS_ROOT points the sensors at another tree (tests; a board whose sysfs is bind-mounted elsewhere).
        using var governed = GovernedJobs.ForThisDevice(inference.Threads, Environment.GetEnvironmentVariable("EDGENODE_SYSFS_ROOT") is { Length: > 0 } root ? root : "/");
        if (settings.Pool is not null)
            modules.Add(new PoolModule(PoolSettings.Resolve(settings, runtime, entries, precision ?? WeightPrecision.Fp32, governed.Governor is null ? null : governed)));
        using var speculative = SpeculativeModeFrom(settings, runtime, precision, conversion);
        var pool = PoolModeFrom(settings, precision, conversion);
        try
        {
            List<IServingMode> plugIns = [];
            if (pool is not null)
                plugIns.Add(pool);
            if (speculative is not null)
                plugIns.Add(speculative);
            GatewayHost.RunAsync(options, served, modules, default, new GatewayPlugIns
            {
                JobAdmission = governed.Admission,
                Threads = governed.Governor is null ? null : governed.Threads,
                Modes = plugIns,
                PoolStatus = pool is null ? null : pool.Status,
            }).GetAwaiter().GetResult();
        }
        finally
        {
            pool?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return 0;
    }

    /// <summary>
    /// The pool as a serving mode when this node is in one: models too big for it are served by the pool's chain. It
    /// watches the pool through the broker the node uses (its own, with --broker embedded).
    /// </summary>
    private static PoolServingMode? PoolModeFrom(ServeSettings settings, WeightPrecision? precision, ConversionOptions conversion)
    {
        if (settings.Pool is not { } pool)
            return null;
        var broker = settings.Broker == PoolPresenceOptions.Embedded ? $"mqtt://127.0.0.1:{PoolProtocol.DefaultBrokerPort}" : settings.Broker;
        // With a pool secret the observer logs in as the pool does (user: the pool's name), unless the URL names a login.
        var secret = settings.PoolSecret is { Length: > 0 } s && (broker is null || BrokerAddress.Parse(broker).UserName is null) ? s : null;
        return new PoolServingMode(pool, broker,
            source => PromptModel.Load(ModelResolver.Resolve(source, null, precision, conversion, TextWriter.Null)), settings.ChatTemplate,
            userName: secret is null ? null : pool, password: secret,
            handshake: settings.PoolSecret is { Length: > 0 } poolSecret ? new PoolHandshake(pool, poolSecret) : null);
    }

    private static VerifierOptions VerifierOptionsFrom(ArgumentReader args) => new()
    {
        SessionIdleTimeout = TimeSpan.FromSeconds(args.Int("verifier-idle", (int)VerifierOptions.DefaultSessionIdleTimeout.TotalSeconds, 1, 86_400)),
    };

    /// <summary>The pool's flags (--pool and the rest), over the file and the environment.</summary>
    private static void ReadPoolArguments(ArgumentReader args, ServeSettings settings)
    {
        settings.Pool = args.String("pool") ?? settings.Pool;
        settings.Broker = args.String("broker") ?? settings.Broker;
        settings.DataPort = args.String("data-port") is not null ? args.Int("data-port", 0, 1, 65534) : settings.DataPort;
        settings.NodeId = args.String("node-id") ?? settings.NodeId;
        settings.MaxMemory = args.String("max-memory") ?? settings.MaxMemory;
        settings.KvMemory = args.String("kv-memory") ?? settings.KvMemory;
        settings.PoolModel = args.String("pool-model") ?? settings.PoolModel;
        settings.FetchRate = args.String("fetch-rate") ?? settings.FetchRate;
        settings.PoolSecret = args.String("pool-secret") ?? settings.PoolSecret;
    }

    private static GatewayOptions GatewayOptionsFrom(ServeSettings settings)
    {
        if (settings.ChatTemplate is { } template)
        {
            try
            {
                settings.ChatTemplate = ChatTemplates.Get(template).Name;
            }
            catch (ChatTemplateException e)
            {
                throw new UsageException($"--chat-template: {e.Message}");
            }
        }
        var logRequests = settings.LogLevel switch
        {
            null or "info" => false,
            "debug" => true,
            var other => throw new UsageException($"--log-level '{other}' is not info or debug"),
        };
        return new GatewayOptions
        {
            Listen = settings.Listen is null ? ListenAddress.Default : ListenAddress.Parse(settings.Listen),
            ApiKeys = settings.ApiKeys ?? [],
            MaxRequestBodyBytes = settings.MaxBodyBytes ?? GatewayOptions.DefaultMaxRequestBodyBytes,
            MaxQueuedPerModel = settings.MaxQueue ?? GatewayOptions.DefaultMaxQueuedPerModel,
            KeyRateLimit = new RateLimit(settings.KeyRpm ?? GatewayOptions.DefaultKeyRateLimit.PerMinute, settings.KeyBurst ?? GatewayOptions.DefaultKeyRateLimit.Burst),
            AddressRateLimit = new RateLimit(settings.IpRpm ?? GatewayOptions.DefaultAddressRateLimit.PerMinute, settings.IpBurst ?? GatewayOptions.DefaultAddressRateLimit.Burst),
            FallbackChatTemplate = settings.ChatTemplate,
            LogRequests = logRequests,
            JobsDatabasePath = settings.JobsDb ?? Path.Combine(AgentPaths.Home, "jobs.db"),
            JobRetention = settings.JobRetentionHours is { } hours ? TimeSpan.FromHours(hours) : TimeSpan.FromDays(7),
        };
    }

    /// <param name="allowNone">A pool node may have no model files: it fetches the slices it is given from peers.</param>
    private static List<ServedModelFolder.Entry> ModelEntries(ServeSettings settings, bool allowNone)
    {
        var entries = new List<ServedModelFolder.Entry>();
        if (settings.ModelsDir is { } dir)
        {
            var (found, skipped) = ServedModelFolder.Find(dir);
            foreach (var reason in skipped)
                Console.Error.WriteLine($"edgenode: not served: {reason}");
            entries.AddRange(found);
        }
        foreach (var path in settings.Models ?? [])
        {
            if (!File.Exists(path) && !Directory.Exists(path) && !Directory.Exists(Path.Combine(AgentPaths.Models, path)))
                throw new FileNotFoundException($"model '{path}' not found: not a file, not a folder, and not a pulled model (see 'edgenode models list')");
            entries.Add(new ServedModelFolder.Entry(ServedModelFolder.IdOf(path), path));
        }
        if (entries.Count == 0 && !(allowNone && settings.ModelsDir is null))
            throw new UsageException(settings.ModelsDir is null
                ? "edgenode serve needs a model: --models DIR or --model PATH (or models_dir / models in --config)"
                : $"{settings.ModelsDir} holds no model edgenode can serve; pass --model PATH");
        return entries;
    }

    private static WeightPrecision ParsePrecision(string text)
    {
        try
        {
            return WeightPrecisionNames.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--precision: {e.Message}");
        }
    }
}
