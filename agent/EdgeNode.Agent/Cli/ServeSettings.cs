using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeNode.Agent.Cli;

/// <summary>
/// `edgenode serve`'s settings file (--config FILE, JSON, snake_case). Each setting is taken from the file, then
/// an EDGENODE_* environment variable, then the command line, the later winning. Unknown keys are refused, so a
/// misspelt setting is not silently ignored.
/// </summary>
public sealed class ServeSettings
{
    public string? Listen { get; set; }
    public string? ModelsDir { get; set; }
    public List<string>? Models { get; set; }
    public int? Threads { get; set; }
    public List<string>? ApiKeys { get; set; }
    public long? MaxBodyBytes { get; set; }
    public int? MaxQueue { get; set; }
    public string? ChatTemplate { get; set; }
    public string? Precision { get; set; }
    public string? LogLevel { get; set; }
    public string? JobsDb { get; set; }
    public double? JobRetentionHours { get; set; }
    public int? KeyRpm { get; set; }
    public int? KeyBurst { get; set; }
    public int? IpRpm { get; set; }
    public int? IpBurst { get; set; }

    // Credits and the mode picker (ServeCommand.Credits.cs reads these).
    public string? LedgerDb { get; set; }
    public string? NodeKey { get; set; }
    public decimal? CreditsPerToken { get; set; }
    public decimal? CreditsPerTokenLayer { get; set; }
    public decimal? DailyFloor { get; set; }
    public long? MemoryBudgetBytes { get; set; }
    // The LAN pool (docs/pool-operators.md): absent pool, the node serves alone.
    public string? Pool { get; set; }
    public string? Broker { get; set; }
    public int? DataPort { get; set; }
    public string? NodeId { get; set; }
    public string? MaxMemory { get; set; }
    public string? KvMemory { get; set; }
    public string? PoolModel { get; set; }
    public string? FetchRate { get; set; }
    public string? PoolSecret { get; set; }

    // Speculative mode: a draft here, the target on a remote verifier (ServeCommand.Speculative.cs reads these).
    public string? VerifierUrl { get; set; }
    public string? VerifierKey { get; set; }
    public string? Draft { get; set; }

    public static ServeSettings Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"settings file {path} not found; pass an existing JSON file to --config");
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), ServeSettingsJsonContext.Default.ServeSettings)
                ?? throw new ArgumentException($"settings file {path} holds null; write a JSON object such as {{\"listen\": \"127.0.0.1:8080\"}}");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"settings file {path}: {e.Message.Split(". ")[0]}; the keys are listen, models_dir, models, threads, api_keys, max_body_bytes, max_queue, chat_template, precision, log_level, jobs_db, job_retention_hours, key_rpm, key_burst, ip_rpm, ip_burst, ledger_db, node_key, credits_per_token, credits_per_token_layer, daily_floor, memory_budget_bytes, pool, broker, data_port, node_id, max_memory, kv_memory, pool_model, fetch_rate, pool_secret, verifier_url, verifier_key, draft");
        }
    }

    /// <summary>Overlays the EDGENODE_* variables that are set (EDGENODE_API_KEYS is comma-separated).</summary>
    public void ApplyEnvironment(Func<string, string?> variable)
    {
        Listen = variable("EDGENODE_LISTEN") is { Length: > 0 } listen ? listen : Listen;
        ModelsDir = variable("EDGENODE_MODELS_DIR") is { Length: > 0 } dir ? dir : ModelsDir;
        Threads = variable("EDGENODE_THREADS") is { Length: > 0 } threads ? Whole("EDGENODE_THREADS", threads) : Threads;
        ApiKeys = variable("EDGENODE_API_KEYS") is { Length: > 0 } keys
            ? [.. keys.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)]
            : ApiKeys;
        MaxBodyBytes = variable("EDGENODE_MAX_BODY_BYTES") is { Length: > 0 } body ? Whole("EDGENODE_MAX_BODY_BYTES", body) : MaxBodyBytes;
        ChatTemplate = variable("EDGENODE_CHAT_TEMPLATE") is { Length: > 0 } template ? template : ChatTemplate;
        LogLevel = variable("EDGENODE_LOG_LEVEL") is { Length: > 0 } level ? level : LogLevel;
        JobsDb = variable("EDGENODE_JOBS_DB") is { Length: > 0 } jobs ? jobs : JobsDb;
        LedgerDb = variable("EDGENODE_LEDGER_DB") is { Length: > 0 } ledger ? ledger : LedgerDb;

        Pool = variable("EDGENODE_POOL") is { Length: > 0 } pool ? pool : Pool;
        Broker = variable("EDGENODE_BROKER") is { Length: > 0 } broker ? broker : Broker;
        DataPort = variable("EDGENODE_DATA_PORT") is { Length: > 0 } port ? Whole("EDGENODE_DATA_PORT", port) : DataPort;
        NodeId = variable("EDGENODE_NODE_ID") is { Length: > 0 } node ? node : NodeId;
        MaxMemory = variable("EDGENODE_MAX_MEMORY") is { Length: > 0 } max ? max : MaxMemory;
        KvMemory = variable("EDGENODE_KV_MEMORY") is { Length: > 0 } kv ? kv : KvMemory;
        PoolModel = variable("EDGENODE_POOL_MODEL") is { Length: > 0 } poolModel ? poolModel : PoolModel;
        FetchRate = variable("EDGENODE_FETCH_RATE") is { Length: > 0 } fetchRate ? fetchRate : FetchRate;
        PoolSecret = variable("EDGENODE_POOL_SECRET") is { Length: > 0 } poolSecret ? poolSecret : PoolSecret;

        VerifierUrl = variable("EDGENODE_VERIFIER_URL") is { Length: > 0 } verifier ? verifier : VerifierUrl;
        VerifierKey = variable("EDGENODE_VERIFIER_KEY") is { Length: > 0 } verifierKey ? verifierKey : VerifierKey;
        Draft = variable("EDGENODE_DRAFT") is { Length: > 0 } draft ? draft : Draft;
    }

    private static int Whole(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{name}='{text}' is not a whole number");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(ServeSettings))]
internal sealed partial class ServeSettingsJsonContext : JsonSerializerContext;
