using EdgeNode.Gateway.FairUse;

namespace EdgeNode.Gateway;

/// <summary>How the API listens and what it accepts. Every default is `edgenode serve`'s.</summary>
public sealed record GatewayOptions
{
    /// <summary>1 MiB: a chat history of several thousand tokens fits many times over; a larger body is answered 413.</summary>
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Requests that may wait for one model while it runs another; one more is answered 429.</summary>
    public const int DefaultMaxQueuedPerModel = 64;

    /// <summary>Per API key: 600 a minute (10/s) sustained, 60 at once: far above one person's use, below one runaway script's.</summary>
    public static readonly RateLimit DefaultKeyRateLimit = new(600, 60);

    /// <summary>Per client address (IPv6 per /64): twice a key's, so several keys behind one NAT are not squeezed first by it.</summary>
    public static readonly RateLimit DefaultAddressRateLimit = new(1200, 120);

    public ListenAddress Listen { get; init; } = ListenAddress.Default;

    /// <summary>Bearer keys a request must present; empty means no key, which is allowed on a loopback address only.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    public long MaxRequestBodyBytes { get; init; } = DefaultMaxRequestBodyBytes;

    public int MaxQueuedPerModel { get; init; } = DefaultMaxQueuedPerModel;

    /// <summary>Token bucket per API key; PerMinute 0 turns it off.</summary>
    public RateLimit KeyRateLimit { get; init; } = DefaultKeyRateLimit;

    /// <summary>Token bucket per client address; PerMinute 0 turns it off.</summary>
    public RateLimit AddressRateLimit { get; init; } = DefaultAddressRateLimit;

    /// <summary>The chat format for models that record none (stories-style base models); null refuses chat for them.</summary>
    public string? FallbackChatTemplate { get; init; }

    /// <summary>The async jobs' SQLite database; null serves no /v1/jobs.</summary>
    public string? JobsDatabasePath { get; init; }

    /// <summary>How long a finished job and its result are kept. Default 7 days.</summary>
    public TimeSpan JobRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>The credits ledger's SQLite database; null turns credits off (no floor, no receipts, no /v1/credits).</summary>
    public string? LedgerDatabasePath { get; init; }

    /// <summary>This node's ECDSA P-256 key pair (PEM, 0600), made on the first start; needed when the ledger is on.</summary>
    public string? NodeKeyPath { get; init; }

    /// <summary>The exchange rate and the free daily floor.</summary>
    public EdgeNode.Ledger.CreditRates CreditRates { get; init; } = new();

    /// <summary>Memory a model may take here, for the mode picker; null reads MemAvailable.</summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>Information logs one line per request; Warning (the default) logs start, stop, model loads and failures.</summary>
    public bool LogRequests { get; init; }

    /// <summary>Refuses settings that would expose the API or cannot work, with the fix.</summary>
    public void Validate()
    {
        if (ApiKeys.Count == 0 && !Listen.IsLoopback)
            throw new ArgumentException($"listening on {Listen} (not a loopback address) needs an API key: set EDGENODE_API_KEYS or \"api_keys\" in the settings file, or listen on 127.0.0.1");
        if (ApiKeys.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("an API key is empty; remove the empty entry from EDGENODE_API_KEYS or \"api_keys\"");
        if (MaxRequestBodyBytes < 1024)
            throw new ArgumentException($"the request body limit {MaxRequestBodyBytes} bytes is below 1024; a chat request needs more");
        if (JobRetention <= TimeSpan.Zero)
            throw new ArgumentException($"the job retention {JobRetention.TotalHours} hours must be positive");
        if (LedgerDatabasePath is not null && NodeKeyPath is null)
            throw new ArgumentException("credits need the node's key pair: set its path (node_key) beside the ledger (ledger_db)");
        if (MemoryBudgetBytes is <= 0)
            throw new ArgumentException($"the memory budget {MemoryBudgetBytes} bytes must be positive");
        CreditRates.Validate();
        KeyRateLimit.Validate("per-key");
        AddressRateLimit.Validate("per-address");
        if (MaxQueuedPerModel < 0)
            throw new ArgumentException($"the queue length {MaxQueuedPerModel} must be >= 0");
    }
}
