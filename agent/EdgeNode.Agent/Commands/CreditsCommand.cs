using System.Globalization;
using System.Text.Json;
using EdgeNode.Agent.Cli;
using EdgeNode.Ledger;

namespace EdgeNode.Agent.Commands;

/// <summary>`edgenode credits`: the ledger this node keeps — balances, receipts, pool members, contributor links.</summary>
public static class CreditsCommand
{
    public const string Help = """
        usage: edgenode credits [balance|history|members|identity|link|unlink] [options]

          balance            this node's account and every key's: balance, earned, spent, floor left today (the default)
          history            the newest receipts this node served, or a key made (with --key)
          members            the pool members whose receipts this ledger accepts; --add registers one
          identity           this node's id and public key, for other members to add
          link               make --key a contributor of --node (default this node): it spends what the node earns, served first
          unlink             end --key's contributor link

          --json             print JSON instead of a table
          --key KEY          the API key (or its account id, key-...) to show, link or unlink
          --node ID          the node to link a key to (default this node)
          --add PUBKEY       members: register a node by its public key (base64 DER, as 'identity' prints it)
          --limit N          history: receipts to show (default 20)
          --ledger-db FILE   the ledger (default $EDGENODE_HOME/ledger.db, or EDGENODE_LEDGER_DB)
          --node-key FILE    this node's key pair (default $EDGENODE_HOME/node-key.pem)

        Credits move only through receipts: there is no transfer. The rules are in docs/credits.md.

        """;

    public static int Run(ArgumentReader args)
    {
        // The flag first: "--json balance" reads "balance" as the flag's value until Flag gives it back.
        var json = args.Flag("json");
        var verb = args.Positionals.Count > 0 ? args.Positionals[0] : "balance";
        var key = args.String("key");
        var node = args.String("node");
        var add = args.String("add");
        var limit = args.Int("limit", 20, 1, 10_000);
        var ledgerPath = args.String("ledger-db") ?? (Environment.GetEnvironmentVariable("EDGENODE_LEDGER_DB") is { Length: > 0 } fromEnvironment ? fromEnvironment : Path.Combine(AgentPaths.Home, "ledger.db"));
        var keyPath = args.String("node-key") ?? Path.Combine(AgentPaths.Home, "node-key.pem");
        args.RejectUnknown(maxPositionals: 1);
        if (verb is not ("balance" or "history" or "members" or "identity" or "link" or "unlink"))
            throw new UsageException($"unknown credits subcommand '{verb}'; the subcommands are balance, history, members, identity, link, unlink");
        var keyId = key is null ? null : key.StartsWith("key-", StringComparison.Ordinal) ? key : AccountIds.ForKey(key);

        using var identity = NodeIdentity.LoadOrCreate(keyPath);
        using var ledger = new CreditLedger(ledgerPath, rates: null);
        // This node is a member of its own ledger (serve registers it too), so linking to it works before serve first ran.
        ledger.AddMember(identity.PublicKey);
        switch (verb)
        {
            case "identity":
                Print(json, $"{{\"node_id\":\"{identity.NodeId}\",\"public_key\":\"{Convert.ToBase64String(identity.PublicKey)}\"}}",
                    $"node id     {identity.NodeId}\npublic key  {Convert.ToBase64String(identity.PublicKey)}\n(other members: edgenode credits members --add {Convert.ToBase64String(identity.PublicKey)})");
                return 0;
            case "members":
                if (add is not null)
                {
                    byte[] publicKey;
                    try
                    {
                        publicKey = Convert.FromBase64String(add);
                    }
                    catch (FormatException)
                    {
                        throw new UsageException("--add takes the node's public key in base64, as 'edgenode credits identity' prints it");
                    }
                    if (!IsP256(publicKey))
                        throw new UsageException("--add: that is not an ECDSA P-256 public key (DER SubjectPublicKeyInfo, base64)");
                    Console.Error.WriteLine($"edgenode: added pool member {ledger.AddMember(publicKey)}");
                }
                var members = ledger.Members();
                if (json)
                    Console.Out.WriteLine(JsonSerializer.Serialize(members, LedgerJsonContext.Default.ListLedgerMember));
                else
                    foreach (var member in members)
                        Console.Out.WriteLine($"{member.NodeId}  {(member.NodeId == identity.NodeId ? "(this node)  " : "")}added {DateTimeOffset.FromUnixTimeMilliseconds(member.AddedAtMs):u}");
                return 0;
            case "link":
                if (keyId is null)
                    throw new UsageException("credits link needs --key KEY");
                ledger.Link(keyId, node ?? identity.NodeId);
                Console.Error.WriteLine($"edgenode: {keyId} is now a contributor of {node ?? identity.NodeId}: it spends what that node earns and is served first");
                return 0;
            case "unlink":
                if (keyId is null)
                    throw new UsageException("credits unlink needs --key KEY");
                ledger.Unlink(keyId);
                Console.Error.WriteLine($"edgenode: {keyId} is no longer a contributor");
                return 0;
            case "history":
                var entries = ledger.History(keyId ?? identity.NodeId, limit);
                if (json)
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(entries, LedgerJsonContext.Default.ListLedgerEntry));
                    return 0;
                }
                Console.Out.WriteLine($"{"time (UTC)",-20} {"request",-34} {"model",-14} {"key",-20} {"in",6} {"out",6} {"layers",6} {"prec",-5} {"mode",-11} {"earned",10} {"spent",10} {"floor",10}");
                foreach (var e in entries)
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{DateTimeOffset.FromUnixTimeMilliseconds(e.TimeMs).UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {Cut(e.RequestId, 34),-34} {Cut(e.Model, 14),-14} {e.KeyId,-20} {e.TokensIn,6} {e.TokensOut,6} {e.Layers,6} {e.Precision,-5} {e.Mode,-11} {e.Earned,10:0.###} {e.Spent,10:0.###} {e.FloorUsed,10:0.###}"));
                return 0;
            default:
                var accounts = keyId is not null ? [keyId] : ledger.Accounts();
                if (!accounts.Contains(identity.NodeId))
                    accounts.Insert(0, identity.NodeId);
                var statements = accounts.Select(id => ledger.Statement(id, 0)).ToList();
                if (json)
                {
                    Console.Out.WriteLine("[" + string.Join(",", statements.Select(s => JsonSerializer.Serialize(s, LedgerJsonContext.Default.CreditStatement))) + "]");
                    return 0;
                }
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rates: a key spends {ledger.Rates.SpendPerToken} per token; a node earns {ledger.Rates.EarnPerTokenLayer} per token and fp32 layer; free floor {ledger.Rates.DailyFloor} per key per UTC day"));
                Console.Out.WriteLine($"{"account",-22} {"kind",-4} {"balance",14} {"earned",14} {"spent",14} {"floor left",12}  contributor of");
                foreach (var s in statements)
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{s.Account + (s.Account == identity.NodeId ? "*" : ""),-22} {s.Kind,-4} {s.Balance,14:0.###} {s.Earned,14:0.###} {s.Spent,14:0.###} {(s.Kind == "key" ? s.FloorLeftToday.ToString("0.###", CultureInfo.InvariantCulture) : "-"),12}  {s.LinkedNode ?? "-"}"));
                Console.Out.WriteLine("* this node");
                return 0;
        }
    }

    private static bool IsP256(byte[] publicKey)
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(publicKey, out _);
            return key.KeySize == 256;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private static void Print(bool json, string jsonText, string text) => Console.Out.WriteLine(json ? jsonText : text);
}
