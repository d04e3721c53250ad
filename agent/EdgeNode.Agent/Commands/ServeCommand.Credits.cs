using System.Globalization;
using EdgeNode.Agent.Cli;
using EdgeNode.Gateway;
using EdgeNode.Ledger;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode serve`'s credits settings (ledger, exchange rate, free floor) and the mode picker's memory budget.</summary>
public static partial class ServeCommand
{
    private const string CreditsHelp = """

          --ledger-db FILE   the credits ledger's SQLite database (default $EDGENODE_HOME/ledger.db; see docs/credits.md)
          --node-key FILE    this node's ECDSA P-256 key pair, made on first start, mode 0600 (default $EDGENODE_HOME/node-key.pem)
          --credits-per-token X        credits a key spends per token, prompt and completion (default 1)
          --credits-per-token-layer X  credits a node earns per token and layer it runs at fp32 (default 0.05)
          --daily-floor X    free credits per key per UTC day, before its wallet is used; 0: none (default 20000)
          --memory BYTES     memory a model may take here, for the mode choice (default: --max-memory in a pool, else the
                             kernel's MemAvailable)

        """;

    private static void ReadCreditsArguments(ArgumentReader args, ServeSettings settings)
    {
        settings.LedgerDb = args.String("ledger-db") ?? settings.LedgerDb;
        settings.NodeKey = args.String("node-key") ?? settings.NodeKey;
        settings.CreditsPerToken = Credits(args, "credits-per-token") ?? settings.CreditsPerToken;
        settings.CreditsPerTokenLayer = Credits(args, "credits-per-token-layer") ?? settings.CreditsPerTokenLayer;
        settings.DailyFloor = Credits(args, "daily-floor") ?? settings.DailyFloor;
        settings.MemoryBudgetBytes = args.String("memory") is { } memory ? ByteSize.Parse(memory, "--memory") : settings.MemoryBudgetBytes;
    }

    private static decimal? Credits(ArgumentReader args, string name)
    {
        var text = args.String(name);
        if (text is null)
            return null;
        return decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new UsageException($"--{name} '{text}' is not a number of credits >= 0");
    }

    private static GatewayOptions WithCredits(GatewayOptions options, ServeSettings settings) => options with
    {
        LedgerDatabasePath = settings.LedgerDb ?? Path.Combine(AgentPaths.Home, "ledger.db"),
        NodeKeyPath = settings.NodeKey ?? Path.Combine(AgentPaths.Home, "node-key.pem"),
        CreditRates = new CreditRates
        {
            SpendPerToken = settings.CreditsPerToken ?? CreditRates.DefaultSpendPerToken,
            EarnPerTokenLayer = settings.CreditsPerTokenLayer ?? CreditRates.DefaultEarnPerTokenLayer,
            DailyFloor = settings.DailyFloor ?? CreditRates.DefaultDailyFloor,
        },
        MemoryBudgetBytes = settings.MemoryBudgetBytes,
    };

    /// <summary>
    /// Bytes of a model's weights on disk, the mode picker's size before it is loaded: a file's size; in a folder, what
    /// would be loaded from it (a converted folder's files, a Hugging Face folder's safetensors, a llama2.c folder's
    /// checkpoint — not the other formats lying beside it); null when unknown.
    /// </summary>
    private static long? WeightBytesOnDisk(string path)
    {
        if (File.Exists(path))
            return new FileInfo(path).Length;
        var folder = Directory.Exists(path) ? path : Path.Combine(AgentPaths.Models, path);
        if (!Directory.Exists(folder))
            return null;
        var files = new DirectoryInfo(folder).GetFiles();
        IEnumerable<FileInfo> weights = File.Exists(Path.Combine(folder, "manifest.json")) ? files
            : File.Exists(Path.Combine(folder, "config.json")) ? files.Where(f => f.Extension == ".safetensors")
            : files.Where(f => f.Extension == ".bin" && f.Name is not ("tokenizer.bin" or "tok512.bin"));
        var total = weights.Sum(f => f.Length);
        return total > 0 ? total : null;
    }
}
